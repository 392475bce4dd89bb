// node-forge's modules one by one (lib/index.js loads all of forge: TLS, SSH, PKCS#12…). Each registers itself on
// the object lib/forge.js exports, which is the `forge` of @types/node-forge.
declare module 'node-forge/lib/forge.js' {
  import forge from 'node-forge';
  export default forge;
}
declare module 'node-forge/lib/x509.js';
declare module 'node-forge/lib/sha1.js';
declare module 'node-forge/lib/sha256.js';
