/**
 * Secrets at rest in the loopback ESC server, as Pulumi Cloud keeps them: a definition is stored
 * with every `fn::secret: <plaintext>` replaced by `fn::secret: {ciphertext: <base64>}`; the
 * definition GET returns that, and only `.../decrypt` (and evaluation) sees plaintext.
 *
 * The ciphertext uses ESC's envelope (`"escx"`, version 1 big-endian, the sealed bytes, a CRC-32 of
 * all that, base64), so the official CLI and evaluator accept its shape; the sealed bytes are
 * AES-256-GCM under a key that lives only in this process, with a random nonce, so that the same
 * plaintext never gives the same ciphertext twice: a client that decrypted and re-encrypted a
 * secret instead of keeping it untouched is caught.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { isMap, isScalar, parseDocument, Scalar, visit, type Document } from "yaml";

const MAGIC = Buffer.from("escx", "latin1");
const VERSION = 1;

/** A ciphertext that is not one of this server's: bad envelope, wrong key, tampered. */
export class InvalidCiphertextError extends Error {
  override readonly name = "InvalidCiphertextError";
}

export class SecretBox {
  readonly #key = randomBytes(32);

  encrypt(plaintext: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, nonce);
    const sealed = Buffer.concat([nonce, cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    const head = Buffer.concat([MAGIC, u32(VERSION), sealed]);
    return Buffer.concat([head, u32(crc32(head))]).toString("base64");
  }

  /** Throws {@link InvalidCiphertextError} (whose message never holds the text). */
  decrypt(encoded: string): string {
    const bin = Buffer.from(encoded, "base64");
    if (bin.length < 16 + 12 + 16 || bin.toString("base64") !== encoded.replace(/\s+/g, "")) throw new InvalidCiphertextError("invalid ciphertext: not an envelope");
    if (!bin.subarray(0, 4).equals(MAGIC)) throw new InvalidCiphertextError("invalid ciphertext: invalid header");
    if (crc32(bin.subarray(0, bin.length - 4)) !== bin.readUInt32BE(bin.length - 4)) throw new InvalidCiphertextError("invalid ciphertext: invalid checksum");
    if (bin.readUInt32BE(4) !== VERSION) throw new InvalidCiphertextError("invalid ciphertext: unsupported version");
    const sealed = bin.subarray(8, bin.length - 4);
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]).toString("utf8");
    } catch {
      throw new InvalidCiphertextError("decrypting: the ciphertext was not made by this server");
    }
  }

  /**
   * Replaces each plaintext `fn::secret` by its ciphertext; ciphertext already there is kept
   * byte for byte. A definition with no plaintext secret (or not parseable) comes back as given.
   */
  encryptDefinition(yaml: string): string {
    return rewrite(yaml, (doc, map) => {
      const value = map.items[0]!.value;
      if (!isScalar(value) || typeof value.value !== "string") return false;
      map.items[0]!.value = doc.createNode({ ciphertext: this.encrypt(value.value) });
      return true;
    });
  }

  /** Replaces each ciphertext `fn::secret` by its plaintext; throws {@link InvalidCiphertextError}. */
  decryptDefinition(yaml: string): string {
    return rewrite(yaml, (_doc, map) => {
      const ciphertext = ciphertextOf(map.items[0]!.value);
      if (ciphertext === undefined) return false;
      map.items[0]!.value = new Scalar(this.decrypt(ciphertext));
      return true;
    });
  }
}

/** The ciphertext strings of a definition, in document order: what a test compares before and after. */
export function ciphertextsOf(yaml: string): string[] {
  const out: string[] = [];
  rewrite(yaml, (_doc, map) => {
    const ciphertext = ciphertextOf(map.items[0]!.value);
    if (ciphertext !== undefined) out.push(ciphertext);
    return false;
  });
  return out;
}

function ciphertextOf(node: unknown): string | undefined {
  if (!isMap(node) || node.items.length !== 1) return undefined;
  const [pair] = node.items;
  if (!isScalar(pair!.key) || pair!.key.value !== "ciphertext" || !isScalar(pair!.value) || typeof pair!.value.value !== "string") return undefined;
  return pair!.value.value;
}

type SecretCall = { items: { key: unknown; value: unknown }[] };

/** Visits every `{fn::secret: ...}` mapping; re-serialises only when `edit` changed something. */
function rewrite(yaml: string, edit: (doc: Document, map: SecretCall) => boolean): string {
  const doc = parseDocument(yaml);
  if (doc.errors.length > 0) return yaml;
  let changed = false;
  visit(doc, {
    Map(_key, map) {
      if (map.items.length !== 1) return;
      const key = map.items[0]!.key;
      if (!isScalar(key) || key.value !== "fn::secret") return;
      if (edit(doc, map as unknown as SecretCall)) changed = true;
    },
  });
  return changed ? doc.toString() : yaml;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
