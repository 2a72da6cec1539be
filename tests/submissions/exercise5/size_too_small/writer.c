/*
 * writer TEXT -- MISTAKE: the segment is 16 bytes instead of 4096.
 *
 * shmget is asked for a segment of 16 bytes, so at most 15 characters of
 * TEXT fit (the copy is cut there); the exercise asks for 4096 bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>

#define SHM_KEY 5678
#define SHM_SIZE 16

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
