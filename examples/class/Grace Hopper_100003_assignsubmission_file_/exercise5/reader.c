/*
 * reader -- MISTAKE: the segment is never removed.
 *
 * The text is printed and the segment detached, but shmctl(IPC_RMID) is
 * never called: the segment stays in the system (see ipcs -m) after both
 * programs have ended, until someone removes it or the machine reboots.
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
    exit(0);
}
