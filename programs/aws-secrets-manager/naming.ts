/** AWS Secrets Manager's naming and size rules. Names are used as given: the store changes nothing. */
import { lengthBetween, onlyChars, verbatimNaming } from "../shared/rules.js";
import { MAX_NAME_LENGTH, MAX_VALUE_BYTES } from "./schema.js";

export const { words, nameRules, normalizeName, checkEntries } = verbatimNaming(
  { store: "AWS Secrets Manager", noun: "secret" },
  [onlyChars(/^[A-Za-z0-9/_+=.@-]*$/, "must contain only alphanumerics and /_+=.@-"), lengthBetween(1, MAX_NAME_LENGTH)],
  MAX_VALUE_BYTES,
);
