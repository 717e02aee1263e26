/**
 * Webhook verification: Pulumi signs a delivery with the hex HMAC-SHA256 of its raw body, keyed
 * with the webhook's secret, in `Pulumi-Webhook-Signature`.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The signature Pulumi sends for `body` under `secret`. */
export function sign(secret: string, body: Buffer | string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/**
 * Whether `header` is the signature of `body`. The comparison takes the same time whatever the
 * header holds, so that a caller cannot find the signature byte by byte.
 */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(sign(secret, body), "hex");
  // A header that is not hex decodes short: compared against a copy, so that its length leaks nothing either.
  const given = Buffer.from(/^[0-9a-f]+$/i.test(header.trim()) ? header.trim() : "", "hex");
  const same = given.length === expected.length ? given : Buffer.alloc(expected.length);
  return timingSafeEqual(same, expected) && given.length === expected.length;
}
