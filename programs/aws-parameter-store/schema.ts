/** Settings of an `aws-parameter-store` target and the store's limits. */
import { z } from "zod";
import { awsCredentialSettings, awsRegion } from "../shared/aws.js";

/** SSM: a parameter name, hierarchy included, is at most 1011 characters. */
export const MAX_NAME_LENGTH = 1011;
/** SSM: a hierarchy has at most 15 levels. */
export const MAX_LEVELS = 15;
/** SSM value limits per tier. Intelligent-Tiering moves a parameter to Advanced when it needs to. */
export const MAX_VALUE_BYTES = {
  Standard: 4 * 1024,
  Advanced: 8 * 1024,
  "Intelligent-Tiering": 8 * 1024,
} as const;

export const parameterTiers = ["Standard", "Advanced", "Intelligent-Tiering"] as const;
export type ParameterTier = (typeof parameterTiers)[number];

export const awsParameterStoreSettings = z.strictObject({
  /** The region the parameters live in, e.g. `eu-west-1`. */
  region: awsRegion,
  /**
   * Standard (free, 4 KB), Advanced (charged, 8 KB) or Intelligent-Tiering (Standard until a
   * value needs Advanced). A parameter can move from Standard to Advanced, never back.
   */
  tier: z.enum(parameterTiers).default("Standard"),
  /** KMS key (id, ARN or alias) for the SecureString parameters; `alias/aws/ssm` when absent. */
  kmsKeyId: z.string().min(1).optional(),
  /**
   * A path every parameter name is placed under, e.g. `/esc`. Written with or without the
   * leading `/`; a trailing `/` is dropped.
   */
  pathPrefix: z
    .string()
    .regex(/^\/?[a-zA-Z0-9_.\-]+(\/[a-zA-Z0-9_.\-]+)*\/?$/, "must be a path such as /esc or /teams/payments")
    .transform((p) => `/${p.replace(/^\/+|\/+$/g, "")}`)
    .optional(),
  ...awsCredentialSettings,
});

export type AwsParameterStoreSettings = z.infer<typeof awsParameterStoreSettings>;
