/*
 * prodcons N -- a correct alternative design: the ring buffer is a System V
 * shared memory segment (shmget/shmat, inherited by fork), synchronised by
 * a set of three System V semaphores (semget/semop) instead of POSIX ones.
 * Its loops are written another way: the consumer counts the items it has
 * printed, and the indexes wrap with a test instead of a modulo. The
 * parent removes the segment and the semaphores once both children are
 * done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUFFER_SIZE 10
enum { EMPTY, FULL, MUTEX };

typedef struct {
    char product;
    int price;
} item;

struct ring {
    item buffer[BUFFER_SIZE];
    int in, out;
};

union semun {
    int val;
};

static int sems;

static void op(unsigned short which, short delta)
{
    struct sembuf b = {which, delta, 0};
    while (semop(sems, &b, 1) == -1) {
        perror("semop");
        exit(1);
    }
}

static void producer(struct ring *r, int n)
{
    for (int i = 0; i < n; i++) {
        item it = {(char)('a' + i % 26), i};
        op(EMPTY, -1);
        op(MUTEX, -1);
        r->buffer[r->in] = it;
        if (++r->in == BUFFER_SIZE)
            r->in = 0;
        op(MUTEX, 1);
        op(FULL, 1);
    }
}

static void consumer(struct ring *r, int n)
{
    int done = 0;
    while (done < n) {
        op(FULL, -1);
        op(MUTEX, -1);
        item it = r->buffer[r->out];
        if (++r->out == BUFFER_SIZE)
            r->out = 0;
        op(MUTEX, 1);
        op(EMPTY, 1);
        printf("consumed %c %d\n", it.product, it.price);
        done++;
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: prodcons N\n");
        return 1;
    }
    int n = atoi(argv[1]);
    int shm = shmget(IPC_PRIVATE, sizeof(struct ring), IPC_CREAT | 0600);
    if (shm == -1) {
        perror("shmget");
        return 1;
    }
    struct ring *r = shmat(shm, NULL, 0);
    shmctl(shm, IPC_RMID, NULL); /* gone once the last process detaches */
    if (r == (void *)-1) {
        perror("shmat");
        return 1;
    }
    r->in = r->out = 0;
    sems = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    if (sems == -1) {
        perror("semget");
        return 1;
    }
    union semun v;
    v.val = BUFFER_SIZE;
    semctl(sems, EMPTY, SETVAL, v);
    v.val = 0;
    semctl(sems, FULL, SETVAL, v);
    v.val = 1;
    semctl(sems, MUTEX, SETVAL, v);

    pid_t pids[2];
    for (int k = 0; k < 2; k++) {
        pids[k] = fork();
        if (pids[k] == -1) {
            perror("fork");
            return 1;
        }
        if (pids[k] == 0) {
            if (k == 0)
                producer(r, n);
            else
                consumer(r, n);
            _exit(0);
        }
    }
    int status, ok = 1;
    for (int k = 0; k < 2; k++)
        if (waitpid(pids[k], &status, 0) == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
            ok = 0;
    semctl(sems, 0, IPC_RMID);
    shmdt(r);
    return ok ? 0 : 1;
}
