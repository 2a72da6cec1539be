/*
 * reader -- print the text of the shared memory segment of key 5678, then
 * remove the segment.
 *
 * Reference solution: shmget without IPC_CREAT only finds an existing
 * segment (it fails if no writer has run). shmat attaches it, the text is
 * printed on a line, shmdt detaches it and shmctl(IPC_RMID) removes the
 * segment so that nothing is left behind.
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

    /* find the segment: it must already exist */
    if ((shmid = shmget(SHM_KEY, 0, 0666)) < 0) {
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
