/* SPDX-License-Identifier: BSD-3-Clause */
/* Threads keep their vector registers (all 256 bits of YMM where AVX is on, else XMM) across
 * sched_yield switches and preemption; more threads than CPUs, so they take turns. */
#include <cpuid.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "check.h"

#define NTHREADS 4
#define ROUNDS	 1000
#define SPIN	 100000 /* loop turns per round with the registers live */

static int avx;
static long changed[NTHREADS], first_round[NTHREADS];
static uint32_t first_halves[NTHREADS]; /* which 16-byte halves differed, one bit each */

/* What XGETBV says the OS saves, not only what the CPU has: AVX only when both agree. */
static int avx_on(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || !(c & (1u << 28)))
		return 0;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

/* Loads sixteen registers from in, spins (sched_yield first when yield), stores them to out. */
static void hold_ymm(const uint8_t *in, uint8_t *out, long yield)
{
	long spin = SPIN;
	__asm__ volatile(
	    "vmovdqu 0(%[in]), %%ymm0\n\tvmovdqu 32(%[in]), %%ymm1\n\tvmovdqu 64(%[in]), %%ymm2\n\t"
	    "vmovdqu 96(%[in]), %%ymm3\n\tvmovdqu 128(%[in]), %%ymm4\n\tvmovdqu 160(%[in]), "
	    "%%ymm5\n\t"
	    "vmovdqu 192(%[in]), %%ymm6\n\tvmovdqu 224(%[in]), %%ymm7\n\tvmovdqu 256(%[in]), "
	    "%%ymm8\n\t"
	    "vmovdqu 288(%[in]), %%ymm9\n\tvmovdqu 320(%[in]), %%ymm10\n\tvmovdqu 352(%[in]), "
	    "%%ymm11\n\t"
	    "vmovdqu 384(%[in]), %%ymm12\n\tvmovdqu 416(%[in]), %%ymm13\n\tvmovdqu 448(%[in]), "
	    "%%ymm14\n\t"
	    "vmovdqu 480(%[in]), %%ymm15\n\t"
	    "test %[yield], %[yield]\n\tjz 1f\n\t"
	    "mov $24, %%eax\n\tsyscall\n" /* sched_yield, with every register live */
	    "1: dec %[spin]\n\tjnz 1b\n\t"
	    "vmovdqu %%ymm0, 0(%[out])\n\tvmovdqu %%ymm1, 32(%[out])\n\tvmovdqu %%ymm2, "
	    "64(%[out])\n\t"
	    "vmovdqu %%ymm3, 96(%[out])\n\tvmovdqu %%ymm4, 128(%[out])\n\tvmovdqu %%ymm5, "
	    "160(%[out])\n\t"
	    "vmovdqu %%ymm6, 192(%[out])\n\tvmovdqu %%ymm7, 224(%[out])\n\tvmovdqu %%ymm8, "
	    "256(%[out])\n\t"
	    "vmovdqu %%ymm9, 288(%[out])\n\tvmovdqu %%ymm10, 320(%[out])\n\tvmovdqu %%ymm11, "
	    "352(%[out])\n\t"
	    "vmovdqu %%ymm12, 384(%[out])\n\tvmovdqu %%ymm13, 416(%[out])\n\tvmovdqu %%ymm14, "
	    "448(%[out])\n\t"
	    "vmovdqu %%ymm15, 480(%[out])\n\tvzeroupper"
	    : [spin] "+r"(spin), [yield] "+r"(yield)
	    : [in] "r"(in), [out] "r"(out)
	    : "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
	      "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void hold_xmm(const uint8_t *in, uint8_t *out, long yield)
{
	long spin = SPIN;
	__asm__ volatile(
	    "movdqu 0(%[in]), %%xmm0\n\tmovdqu 16(%[in]), %%xmm1\n\tmovdqu 32(%[in]), %%xmm2\n\t"
	    "movdqu 48(%[in]), %%xmm3\n\tmovdqu 64(%[in]), %%xmm4\n\tmovdqu 80(%[in]), %%xmm5\n\t"
	    "movdqu 96(%[in]), %%xmm6\n\tmovdqu 112(%[in]), %%xmm7\n\tmovdqu 128(%[in]), %%xmm8\n\t"
	    "movdqu 144(%[in]), %%xmm9\n\tmovdqu 160(%[in]), %%xmm10\n\tmovdqu 176(%[in]), "
	    "%%xmm11\n\t"
	    "movdqu 192(%[in]), %%xmm12\n\tmovdqu 208(%[in]), %%xmm13\n\tmovdqu 224(%[in]), "
	    "%%xmm14\n\t"
	    "movdqu 240(%[in]), %%xmm15\n\t"
	    "test %[yield], %[yield]\n\tjz 1f\n\t"
	    "mov $24, %%eax\n\tsyscall\n"
	    "1: dec %[spin]\n\tjnz 1b\n\t"
	    "movdqu %%xmm0, 0(%[out])\n\tmovdqu %%xmm1, 16(%[out])\n\tmovdqu %%xmm2, 32(%[out])\n\t"
	    "movdqu %%xmm3, 48(%[out])\n\tmovdqu %%xmm4, 64(%[out])\n\tmovdqu %%xmm5, "
	    "80(%[out])\n\t"
	    "movdqu %%xmm6, 96(%[out])\n\tmovdqu %%xmm7, 112(%[out])\n\tmovdqu %%xmm8, "
	    "128(%[out])\n\t"
	    "movdqu %%xmm9, 144(%[out])\n\tmovdqu %%xmm10, 160(%[out])\n\tmovdqu %%xmm11, "
	    "176(%[out])\n\t"
	    "movdqu %%xmm12, 192(%[out])\n\tmovdqu %%xmm13, 208(%[out])\n\tmovdqu %%xmm14, "
	    "224(%[out])\n\t"
	    "movdqu %%xmm15, 240(%[out])"
	    : [spin] "+r"(spin), [yield] "+r"(yield)
	    : [in] "r"(in), [out] "r"(out)
	    : "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
	      "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void *worker(void *arg)
{
	long me = (long)arg;
	size_t len = avx ? 512 : 256;
	uint8_t in[512], out[512];
	for (long r = 0; r < ROUNDS; r++) {
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)(me * 67 + r * 13 + (long)i * 7 + 1);
		(avx ? hold_ymm : hold_xmm)(in, out, r % 2);
		if (!memcmp(in, out, len))
			continue;
		if (!changed[me]++) {
			first_round[me] = r;
			for (size_t h = 0; h < len / 16; h++)
				first_halves[me] |=
				    (uint32_t)(memcmp(in + h * 16, out + h * 16, 16) != 0) << h;
		}
	}
	return NULL;
}

int main(void)
{
	avx = avx_on();
	pthread_t t[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		CHECK(!pthread_create(&t[i], NULL, worker, (void *)i));
	long bad = 0;
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		bad += changed[i];
		if (changed[i])
			printf("vecregs: thread %d found its registers changed in %ld of %d "
			       "rounds, first in "
			       "round %ld (16-byte halves 0x%x)\n",
			       i, changed[i], ROUNDS, first_round[i], first_halves[i]);
	}
	CHECK(bad == 0);
	if (!bad)
		printf("vecregs: %d threads kept their vector registers across switches and "
		       "preemption\n",
		       NTHREADS);
	return check_done();
}
