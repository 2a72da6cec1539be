/*
 * prodcons N -- a producer and a consumer process share the lecture's
 * ring buffer of 10 items; the producer makes N items, the consumer
 * prints them in order.
 *
 * Reference solution: the buffer, in and out are put in an anonymous
 * mapping made with MAP_SHARED | MAP_ANONYMOUS before fork, so that both
 * children use the same memory (plain globals would be copied by fork).
 * Instead of the lecture's counter nb and its busy-waiting loops, three
 * POSIX unnamed semaphores, also in the shared mapping and initialised
 * with pshared = 1 so that they work across processes, synchronise them:
 *   empty (free places, BUFFER_SIZE at first): the producer waits on it,
 *   full  (items to consume, 0 at first): the consumer waits on it,
 *   mutex (1): only one process at a time touches the buffer.
 * A process waiting on a semaphore sleeps: it uses no CPU. The parent
 * waits for both children and exits 0 only if both succeeded.
 */
#include <errno.h>
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
    item buffer[BUFFER_SIZE];
    int in;  /* where to produce */
    int out; /* where to consume */
    sem_t empty, full, mutex;
};

static struct shared *sh;

static void down(sem_t *s)
{
    while (sem_wait(s) == -1) {
        if (errno != EINTR) {
            perror("sem_wait failed");
            exit(1);
        }
    }
}

static void up(sem_t *s)
{
    if (sem_post(s) == -1) {
        perror("sem_post failed");
        exit(1);
    }
}

static void produce(item *i)
{
    down(&sh->empty); /* wait for a free place */
    down(&sh->mutex);
    sh->buffer[sh->in] = *i;
    sh->in = (sh->in + 1) % BUFFER_SIZE;
    up(&sh->mutex);
    up(&sh->full); /* one more item to consume */
}

static void consume(item *i)
{
    down(&sh->full); /* wait for an item */
    down(&sh->mutex);
    *i = sh->buffer[sh->out];
    sh->out = (sh->out + 1) % BUFFER_SIZE;
    up(&sh->mutex);
    up(&sh->empty); /* one more free place */
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
    /* the buffer and the semaphores, shared with the children */
    sh = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }
    sh->in = 0;
    sh->out = 0;
    if (sem_init(&sh->empty, 1, BUFFER_SIZE) == -1 ||
        sem_init(&sh->full, 1, 0) == -1 || sem_init(&sh->mutex, 1, 1) == -1) {
        perror("sem_init failed");
        exit(1);
    }
    /* the producer */
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
    /* the consumer */
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
        exit(0); /* exit, not _exit: it flushes stdout */
    }
    /* the parent waits for both */
    if (waitpid(producer, &status, 0) == -1 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        failed = 1;
    if (waitpid(consumer, &status, 0) == -1 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        failed = 1;
    sem_destroy(&sh->empty);
    sem_destroy(&sh->full);
    sem_destroy(&sh->mutex);
    munmap(sh, sizeof(struct shared));
    exit(failed);
}
