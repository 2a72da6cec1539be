/*
 * copy <src> <dest> -- CORRECT, in a different style.
 *
 * creat(dest, 0644) is open(dest, O_CREAT|O_WRONLY|O_TRUNC, 0644), so dest
 * is created or truncated with the right mode. The usage line goes to
 * stderr, and cat is started with execvp and an argument vector.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int out;

    if (argc != 3) {
        fprintf(stderr, "usage: copy <src> <dest>\n");
        return 1;
    }

    out = creat(argv[2], 0644);
    if (out < 0) {
        perror(argv[2]);
        return 1;
    }
    if (dup2(out, STDOUT_FILENO) < 0) {
        perror("dup2");
        return 1;
    }
    close(out);

    char *cat_argv[] = { "cat", argv[1], NULL };
    execvp(cat_argv[0], cat_argv);
    perror("execvp cat");
    return 1;
}
