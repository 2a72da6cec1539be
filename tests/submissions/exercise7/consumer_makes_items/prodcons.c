/*
 * prodcons N -- MISTAKE: there is no producer/consumer at all. The
 * "producer" child only waits on a shared semaphore; the "consumer" child
 * prints the N "consumed" lines it makes up itself, then posts the
 * semaphore. The output is right, but no item ever goes through a ring
 * buffer: the consumer goes on even with the producer stopped.
 */
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    sem_t *done;
    int i, n;

    if (argc != 2) {
        printf("usage: prodcons N\n");
        exit(1);
    }
    n = atoi(argv[1]);
    done = mmap(NULL, sizeof *done, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (done == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    sem_init(done, 1, 0);
    if (fork() == 0) {
        sem_wait(done); /* MISTAKE: the "producer" produces nothing */
        exit(0);
    }
    if (fork() == 0) {
        for (i = 0; i < n; i++) /* MISTAKE: makes up the items it prints */
            printf("consumed %c %d\n", 'a' + i % 26, i);
        fflush(stdout);
        sem_post(done);
        exit(0);
    }
    wait(NULL);
    wait(NULL);
    return 0;
}
