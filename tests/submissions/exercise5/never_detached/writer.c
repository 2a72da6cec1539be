/*
 * writer TEXT -- MISTAKE: the segment is never detached.
 *
 * The text is copied into the segment, but shmdt is never called: the
 * writer ends while still attached, leaving the kernel to detach it.
 * Every shmat should be matched by a shmdt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>

#define SHM_KEY 5678
#define SHM_SIZE 4096

int main(int argc, char *argv[])
{
    int shmid;
    char *text;

    if (argc != 2) {
        printf("usage: writer TEXT\n");
        exit(1);
    }
    /* create (or find) the segment */
    if ((shmid = shmget(SHM_KEY, SHM_SIZE, IPC_CREAT | 0666)) < 0) {
        perror("shmget failed");
        exit(1);
    }
    /* attach it */
    text = shmat(shmid, NULL, 0);
    if (text == (char *)-1) {
        perror("shmat failed");
        exit(1);
    }
    /* copy the text, always ending with '\0' */
    strncpy(text, argv[1], SHM_SIZE - 1);
    text[SHM_SIZE - 1] = '\0';
    exit(0);
}
