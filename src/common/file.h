/* file_ — small file helpers shared by the server, the client and the CLI. */
#ifndef ANNALS_COMMON_FILE_H
#define ANNALS_COMMON_FILE_H

#include <stddef.h>

/* The whole file, NUL-terminated, malloc'ed; NULL when it cannot be read
 * or is larger than max bytes. *len (if not NULL) gets its size. */
char *file_read_all(const char *path, size_t max, size_t *len);

#endif
