/** The canonical `hexdump -C` layout, `*` for runs of repeated lines included, so output diffs against the tool's. */

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');
const offset = (n: number): string => n.toString(16).padStart(8, '0');

function line(at: number, chunk: Uint8Array): string {
  const cols = Array.from({ length: 16 }, (_, i) => (i < chunk.length ? `${hex2(chunk[i]!)} ` : '   '));
  const ascii = Array.from(chunk, (b) => (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.')).join('');
  return `${offset(at)}  ${cols.slice(0, 8).join('')} ${cols.slice(8).join('')} |${ascii}|`;
}

export function hexdump(bytes: Uint8Array): string {
  if (bytes.length === 0) return '';
  const lines: string[] = [];
  let prev: string | undefined;
  let squeezed = false;
  for (let at = 0; at < bytes.length; at += 16) {
    const chunk = bytes.subarray(at, at + 16);
    const key = chunk.length === 16 ? Array.from(chunk, hex2).join('') : undefined;
    if (key !== undefined && key === prev) {
      if (!squeezed) lines.push('*');
      squeezed = true;
      continue;
    }
    prev = key;
    squeezed = false;
    lines.push(line(at, chunk));
  }
  lines.push(offset(bytes.length));
  return `${lines.join('\n')}\n`;
}
