/*
 * copy <src> <dest> -- MISTAKE: does not link.
 *
 * The work is delegated to copy_file(), which is declared but defined
 * nowhere: the file compiles, but the linker reports an undefined
 * reference to copy_file.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

/* does the open + dup2 + exec; "to be written later" */
int copy_file(const char *src, const char *dest);

int main(int argc, char *argv[])
{
    if (argc != 3) {
        printf("usage: copy <src> <dest>\n");
        return 1;
    }
    if (copy_file(argv[1], argv[2]) == -1) {
        perror("copy_file");
        exit(1);
    }
    return 0;
}
