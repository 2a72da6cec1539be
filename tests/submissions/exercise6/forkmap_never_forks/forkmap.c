/*
 * forkmap N -- MISTAKE: the page is mapped MAP_SHARED | MAP_ANONYMOUS, but
 * the program never forks: it counts to N itself and prints the counter,
 * so nothing is shared with any other process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    long pagesize = sysconf(_SC_PAGESIZE);
    int *counter, i, n;

    if (argc != 2) {
        printf("usage: forkmap N\n");
        exit(1);
    }
    n = atoi(argv[1]);
    counter = mmap(NULL, pagesize, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counter == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    *counter = 0;
    for (i = 0; i < n; i++)
        (*counter)++;
    printf("counter = %d\n", *counter);
    exit(0);
}
