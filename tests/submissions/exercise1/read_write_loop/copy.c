/*
 * copy <src> <dest> -- MISTAKE: copies by hand with a read()/write() loop.
 *
 * The bytes, the mode, the truncation and the error handling are right,
 * but the exercise is about I/O redirection: the program should redirect
 * its standard output to dest with dup2 and become "cat src" with exec.
 * This one never runs cat at all.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    char buf[4096];
    ssize_t n;
    int in, out;

    if (argc != 3) {
        printf("usage: copy <src> <dest>\n");
        return 1;
    }

    in = open(argv[1], O_RDONLY);
    if (in == -1) {
        perror("error open src");
        exit(1);
    }
    out = open(argv[2], O_CREAT | O_WRONLY | O_TRUNC, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
    if (out == -1) {
        perror("error open dest");
        exit(1);
    }

    /* copy until end of file, handling short writes */
    while ((n = read(in, buf, sizeof buf)) > 0) {
        ssize_t done = 0;
        while (done < n) {
            ssize_t w = write(out, buf + done, n - done);
            if (w == -1) {
                perror("error write");
                exit(1);
            }
            done += w;
        }
    }
    if (n == -1) {
        perror("error read");
        exit(1);
    }
    close(in);
    close(out);
    return 0;
}
