/*
 * writer TEXT -- put TEXT in the System V shared memory segment of key 5678.
 *
 * Reference solution: shmget with IPC_CREAT creates the 4096-byte segment
 * (or finds it) with mode rw-rw-rw- (0666), shmat attaches it to our
 * address space, TEXT is copied in as a C string (at most 4095 characters
 * and always a final '\0'), then shmdt detaches it before we exit. The
 * segment itself stays, for the reader.
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
    /* detach it */
    if (shmdt(text) == -1) {
        perror("shmdt failed");
        exit(1);
    }
    exit(0);
}
