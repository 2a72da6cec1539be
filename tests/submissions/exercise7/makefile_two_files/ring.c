/*
 * ring.c -- the ring buffer of prodcons, in its own file.
 *
 * The buffer, in, out and three POSIX semaphores (process-shared) live in
 * an anonymous shared mapping made before fork.
 */
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "ring.h"

struct shared {
    item buffer[BUFFER_SIZE];
    int in, out;
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

int ring_open(void)
{
    sh = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return -1;
    sh->in = sh->out = 0;
    if (sem_init(&sh->empty, 1, BUFFER_SIZE) == -1 ||
        sem_init(&sh->full, 1, 0) == -1 || sem_init(&sh->mutex, 1, 1) == -1)
        return -1;
    return 0;
}

void ring_put(const item *i)
{
    down(&sh->empty);
    down(&sh->mutex);
    sh->buffer[sh->in] = *i;
    sh->in = (sh->in + 1) % BUFFER_SIZE;
    up(&sh->mutex);
    up(&sh->full);
}

void ring_get(item *i)
{
    down(&sh->full);
    down(&sh->mutex);
    *i = sh->buffer[sh->out];
    sh->out = (sh->out + 1) % BUFFER_SIZE;
    up(&sh->mutex);
    up(&sh->empty);
}

void ring_close(void)
{
    sem_destroy(&sh->empty);
    sem_destroy(&sh->full);
    sem_destroy(&sh->mutex);
    munmap(sh, sizeof(struct shared));
}
