/*
 * walk.h - list the files of a model folder.
 *
 * Part of store/.  Symbolic links are followed when they lead to regular
 * files (a Hugging Face snapshot is a folder of links into blobs/) but
 * never into folders, so a walk cannot loop or leave the tree through a
 * linked folder.  The top-level ".weightsync", ".git" and ".cache" folders
 * (ours, git's, and the Hugging Face downloader's) are not model files and
 * are skipped.
 */
#ifndef WS_STORE_WALK_H
#define WS_STORE_WALK_H

#include <stddef.h>

/*
 * ws_walk - the relative paths ('/' separated, sorted bytewise) of every
 * file under dir.  A name that is not a valid manifest path
 * (ws_path_check), a dangling link or anything but a file or folder is an
 * error naming it when strict is set, and is skipped otherwise.  *paths is
 * a malloc'd array of *n malloc'd strings: ws_walk_free.
 */
int ws_walk(const char *dir, int strict, char ***paths, size_t *n, char **msg);
void ws_walk_free(char **paths, size_t n);

#endif
