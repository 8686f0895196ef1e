/*
 * cmd.h: the `amber` subcommands.  Each cmd_<name>() lives in
 * tools/cmd/cmd_<name>.c, takes the arguments after the command name with
 * argv[0] set to "amber <name>", prints its own messages (cli_err()), and
 * returns the process exit status (CLI_EXIT_* in cli.h, whose top states
 * the error convention; amber(1), EXIT STATUS).
 */
#ifndef CMD_H
#define CMD_H

int cmd_init(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_ingest(int argc, char **argv);		/* cmd_ingest.c */
int cmd_snapshots(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_doctor(int argc, char **argv);		/* cmd_doctor.c */
int cmd_policy(int argc, char **argv);
int cmd_prune(int argc, char **argv);

#endif
