/*
 * reader -- a correct alternative: the segment is marked for removal
 * (shmctl IPC_RMID) as soon as it is attached, before the text is printed
 * and before shmdt. The kernel removes a marked segment when its last
 * process detaches, so it is gone once reader has detached.
 */
#include <stdio.h>
#include <sys/shm.h>

int main(void)
{
    int id = shmget(5678, 0, 0);
    if (id == -1) {
        perror("reader: shmget");
        return 1;
    }
    const char *text = shmat(id, NULL, SHM_RDONLY);
    if (text == (void *)-1) {
        perror("reader: shmat");
        return 1;
    }
    if (shmctl(id, IPC_RMID, NULL) == -1) {
        perror("reader: shmctl");
        return 1;
    }
    puts(text);
    if (shmdt(text) == -1) {
        perror("reader: shmdt");
        return 1;
    }
    return 0;
}
