/* floor: a do-nothing static program that reports "ready" on fd 3 and
 * exits; the spawn->ready floor for the pause benchmarks. */
#include <unistd.h>

int main(void)
{
	(void)!write(3, "R", 1);
	return 0;
}
