/*
 * forkmap N -- a correct alternative: the anonymous shared page is made the
 * older way, by mapping /dev/zero with MAP_SHARED (the kernel makes it an
 * anonymous shared page, as MAP_SHARED | MAP_ANONYMOUS does). The parent
 * waits with wait(), and the child ends with exit().
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: forkmap N\n");
        return 1;
    }
    long n = strtol(argv[1], NULL, 10);
    int zero = open("/dev/zero", O_RDWR);
    if (zero < 0) {
        perror("/dev/zero");
        return 1;
    }
    volatile long *counter = mmap(NULL, sizeof *counter, PROT_READ | PROT_WRITE,
                                  MAP_SHARED, zero, 0);
    if (counter == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    close(zero);
    switch (fork()) {
    case -1:
        perror("fork");
        return 1;
    case 0:
        while (n-- > 0)
            *counter += 1;
        exit(0);
    default:
        if (wait(NULL) == -1) {
            perror("wait");
            return 1;
        }
        printf("counter = %ld\n", *counter);
    }
    return 0;
}
