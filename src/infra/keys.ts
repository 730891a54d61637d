/**
 * floe's key pair for the embedded emulator: an RSA key pair made once under the state directory
 * and reused, so the local stack signs in the way a Snowflake service user does (SNOWFLAKE_JWT).
 *
 * Files: `<state>/snowflake-key.p8` (unencrypted PEM PKCS#8 private key, mode 0600) and
 * `<state>/snowflake-key.pub` (PEM SubjectPublicKeyInfo public key, the RSA_PUBLIC_KEY to register).
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Where the key pair is and the public key to register for floe's user. */
export interface StackKeyPair {
  /** Absolute path of the PEM PKCS#8 private key (SNOWFLAKE_PRIVATE_KEY_PATH). */
  privateKeyPath: string;
  /** PEM public key (`-----BEGIN PUBLIC KEY-----`). */
  publicKey: string;
}

/** RSA modulus length, in bits: the 2048 Snowflake's key-pair documentation generates. */
const MODULUS_BITS = 2048;

/**
 * Returns the state directory's key pair, generating it on first use (private key written with mode
 * 0600, created exclusively so two starts never overwrite each other's key). Throws when the files
 * cannot be written or read.
 */
export function ensureKeyPair(stateDir: string): StackKeyPair {
  const privateKeyPath = path.join(stateDir, 'snowflake-key.p8');
  const publicKeyPath = path.join(stateDir, 'snowflake-key.pub');
  if (!fs.existsSync(privateKeyPath)) {
    fs.mkdirSync(stateDir, { recursive: true });
    const pair = generateKeyPairSync('rsa', {
      modulusLength: MODULUS_BITS,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    fs.writeFileSync(privateKeyPath, pair.privateKey, { mode: 0o600, flag: 'wx' });
    fs.writeFileSync(publicKeyPath, pair.publicKey, { mode: 0o644 });
  }
  fs.chmodSync(privateKeyPath, 0o600);
  return { privateKeyPath, publicKey: fs.readFileSync(publicKeyPath, 'utf8') };
}
