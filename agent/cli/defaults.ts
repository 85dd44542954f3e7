// Defaults shared by the subcommands.

/** The pair configuration: HANFS_CONFIG in the environment (the lab sets it per node), else the system path. */
export const DEFAULT_CONFIG = process.env.HANFS_CONFIG ?? '/etc/hanfs/pair.yaml';
