/*
 * prodcons N -- MISTAKE: waits by spinning on shared indices that are not
 * volatile; the student's Makefile builds it without optimisation.
 *
 * The ring buffer, in and out are in a MAP_SHARED | MAP_ANONYMOUS mapping,
 * and there is no shared counter: only the producer writes in, only the
 * consumer writes out, so no item is lost or repeated. Built as the
 * Makefile does (no -O), every turn of "while (sh->in == sh->out) ;"
 * reads the memory again, and the program works. But nothing in the loop
 * changes in or out, so an optimising compiler (-O2) reads them once,
 * before the loop: the first time the buffer is full (or empty), the
 * process spins forever on that old value and the program hangs. The
 * indices should be volatile, or, better, the waiting done on semaphores.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUFFER_SIZE 10

typedef struct {
    char product;
    int price;
} item;

struct shared {
    item buffer[BUFFER_SIZE];
    int in;  /* where to produce: written by the producer only */
    int out; /* where to consume: written by the consumer only */
};

static struct shared *sh;

static void produce(item *i)
{
    while ((sh->in + 1) % BUFFER_SIZE == sh->out) {
        /* do nothing - no free place in buffer */
    }
    sh->buffer[sh->in] = *i;
    sh->in = (sh->in + 1) % BUFFER_SIZE;
}

static void consume(item *i)
{
    while (sh->in == sh->out) {
        /* do nothing - nothing to consume */
    }
    *i = sh->buffer[sh->out];
    sh->out = (sh->out + 1) % BUFFER_SIZE;
}

int main(int argc, char *argv[])
{
    pid_t producer, consumer;
    int status, failed = 0;
    item it;
    int i, n;

    if (argc != 2) {
        printf("usage: prodcons N\n");
        exit(1);
    }
    n = atoi(argv[1]);
    sh = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    sh->in = 0;
    sh->out = 0;
    if ((producer = fork()) < 0) {
        perror("fork failed");
        exit(1);
    }
    if (producer == 0) {
        for (i = 0; i < n; i++) {
            it.product = 'a' + i % 26;
            it.price = i;
            produce(&it);
        }
        exit(0);
    }
    if ((consumer = fork()) < 0) {
        perror("fork failed");
        kill(producer, SIGKILL);
        exit(1);
    }
    if (consumer == 0) {
        for (i = 0; i < n; i++) {
            consume(&it);
            printf("consumed %c %d\n", it.product, it.price);
        }
        exit(0);
    }
    if (waitpid(producer, &status, 0) == -1 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        failed = 1;
    if (waitpid(consumer, &status, 0) == -1 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        failed = 1;
    munmap(sh, sizeof(struct shared));
    exit(failed);
}
