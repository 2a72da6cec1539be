/* Hostile on purpose: a fork bomb. The sandbox caps the process count and kills the
 * whole group; the report says so, and the rest of the class is graded as usual. */
#include <unistd.h>

int main(void)
{
    for (;;)
        fork();
}
