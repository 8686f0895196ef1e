/*
 * org.h: `amber ingest STORE --sources FILE`, the ingest of everything a
 * sources file names (man/amber-sources.5): plain directories, repositories,
 * pipeline sources, and the repositories of whole GitLab groups and
 * GitHub organisations, in one snapshot.  cmd_ingest.c hands such a
 * command line over whole.
 */
#ifndef ORG_H
#define ORG_H

/* 1 if ${argv} holds --sources (so org_ingest() runs it), else 0. */
int org_is_wanted(int argc, char **argv);

/*
 * org_ingest(argc, argv):
 * Run `amber ingest` with --sources: argv[0] is "amber ingest".  Returns
 * the exit status: 0 done; 3 committed, but some source is stale, failed
 * or partial; 2 usage or a bad sources file (nothing written); 1 failure;
 * 4 wrong passphrase or key.
 */
int org_ingest(int argc, char **argv);

#endif
