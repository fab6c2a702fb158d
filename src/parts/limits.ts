/** What a plan may be split into (make-plan.ts), apart from the rest so that the CLI's help can name it without loading the planning code. */
export const MAX_PARTS = 100_000;
/** As fpsync's default: a part small enough to retry cheaply. */
export const DEFAULT_MAX_PART_FILES = 2_000;
