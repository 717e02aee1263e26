/** Why serve did not start. */
import { UserError } from "../errors.js";

/** serve cannot start as asked (a port in use, an address that cannot be bound, no watch folder). */
export class ServeStartError extends UserError {
  override readonly name = "ServeStartError";
}
