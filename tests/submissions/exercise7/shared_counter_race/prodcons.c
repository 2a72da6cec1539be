/*
 * prodcons N -- MISTAKE: the lecture's counter nb, shared and unprotected.
 *
 * The buffer, out and nb are in a MAP_SHARED | MAP_ANONYMOUS mapping made
 * before fork, and two semaphores (empty, full) make the producer wait on a
 * full buffer and the consumer on an empty one: nobody spins and nothing
 * hangs. But there is no in: the producer puts its item at
 * (out + nb) % BUFFER_SIZE, and the counter nb is changed by both processes
 * with no mutex. The consumer moves out on, prints the item, and only then
 * takes one off nb: a producer that looks at out and nb in between puts its
 * item one place too far, where the consumer does not look for it yet, and
 * the consumer takes an old item from the place left empty. Items are lost
 * and repeated, and the run still ends with exit status 0.
 */
#include <semaphore.h>
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
    volatile item buffer[BUFFER_SIZE];
    volatile int out; /* where to consume */
    volatile int nb;  /* number of items: changed by both, unprotected */
    sem_t empty, full;
};

static struct shared *sh;

int main(int argc, char *argv[])
{
    pid_t producer, consumer;
    int status, failed = 0;
    int i, n, in;
    item it;

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
    sh->out = 0;
    sh->nb = 0;
    if (sem_init(&sh->empty, 1, BUFFER_SIZE) == -1 || sem_init(&sh->full, 1, 0) == -1) {
        perror("sem_init failed");
        exit(1);
    }
    if ((producer = fork()) < 0) {
        perror("fork failed");
        exit(1);
    }
    if (producer == 0) {
        for (i = 0; i < n; i++) {
            sem_wait(&sh->empty);
            in = (sh->out + sh->nb) % BUFFER_SIZE; /* MISTAKE: nb may be stale */
            sh->buffer[in].product = 'a' + i % 26;
            sh->buffer[in].price = i;
            sh->nb++; /* MISTAKE: no mutex: races with the consumer's nb-- */
            sem_post(&sh->full);
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
            sem_wait(&sh->full);
            it.product = sh->buffer[sh->out].product;
            it.price = sh->buffer[sh->out].price;
            sh->out = (sh->out + 1) % BUFFER_SIZE;
            sem_post(&sh->empty); /* the place is free: the producer may go on */
            printf("consumed %c %d\n", it.product, it.price);
            fflush(stdout);
            sh->nb--; /* MISTAKE: only now, and no mutex */
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
