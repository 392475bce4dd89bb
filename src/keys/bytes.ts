/** Small byte helpers shared by the value decoders. */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text when they are valid UTF-8 with no control characters but tab, newline and carriage return. */
export function printableText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(text) ? undefined : text;
}

export function hexPreview(bytes: Uint8Array, max = 16): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > max ? `${shown} …` : shown;
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array | string): boolean {
  const p = typeof prefix === 'string' ? new TextEncoder().encode(prefix) : prefix;
  return bytes.length >= p.length && p.every((b, i) => bytes[i] === b);
}
