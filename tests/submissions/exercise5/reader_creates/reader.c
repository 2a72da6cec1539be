/*
 * reader -- MISTAKE: shmget with IPC_CREAT.
 *
 * When no writer has run, the reader does not report an error: it creates
 * a new, empty segment of 4096 bytes, prints an empty line, removes the
 * segment and exits with status 0 as if all was well.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>

#define SHM_KEY 5678

int main(void)
{
    int shmid;
    char *text;

    /* find the segment */
    if ((shmid = shmget(SHM_KEY, 4096, IPC_CREAT | 0666)) < 0) {
        perror("shmget failed");
        exit(1);
    }
    /* attach it */
    text = shmat(shmid, NULL, 0);
    if (text == (char *)-1) {
        perror("shmat failed");
        exit(1);
    }
    printf("%s\n", text);
    /* detach it */
    if (shmdt(text) == -1) {
        perror("shmdt failed");
        exit(1);
    }
    /* remove it */
    if (shmctl(shmid, IPC_RMID, NULL) == -1) {
        perror("shmctl failed");
        exit(1);
    }
    exit(0);
}
