/** GCP Secret Manager's naming and size rules. Secret ids are used as given (case-sensitive). */
import { lengthBetween, onlyChars, verbatimNaming } from "../shared/rules.js";
import { MAX_NAME_LENGTH, MAX_VALUE_BYTES } from "./schema.js";

export const { words, nameRules, normalizeName, checkEntries } = verbatimNaming(
  { store: "GCP Secret Manager", noun: "secret" },
  [onlyChars(/^[A-Za-z0-9_-]*$/, "must contain only alphanumerics, _ and -"), lengthBetween(1, MAX_NAME_LENGTH)],
  MAX_VALUE_BYTES,
);
