// SPDX-License-Identifier: BSD-3-Clause
// Go (CGO_ENABLED=0): goroutines over OS threads, channels, a mutex, runtime.GOMAXPROCS, a GC,
// time.Sleep and timers (the runtime's netpoller: epoll and a pipe),
// and with "panic" a panic that ends the program with status 2 and its trace.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

func main() {
	fmt.Println("go: GOMAXPROCS is the CPU count:", runtime.GOMAXPROCS(0) == runtime.NumCPU())
	ch := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ch <- i
		}(i)
	}
	go func() { wg.Wait(); close(ch) }()
	sum := 0
	for v := range ch {
		sum += v
	}
	fmt.Println("go: 100 goroutines sent", sum)

	// CPU-bound goroutines, preempted by the runtime, sharing a counter
	var mu sync.Mutex
	count := 0
	var busy sync.WaitGroup
	for i := 0; i < 8; i++ {
		busy.Add(1)
		go func() {
			defer busy.Done()
			for k := 0; k < 100000; k++ {
				mu.Lock()
				count++
				mu.Unlock()
			}
		}()
	}
	busy.Wait()
	fmt.Println("go: 8 goroutines counted", count)
	runtime.GC()

	t0 := time.Now()
	time.Sleep(30 * time.Millisecond)
	timer := time.NewTimer(10 * time.Millisecond)
	<-timer.C
	fmt.Println("go: slept, and a timer fired:", time.Since(t0) >= 40*time.Millisecond)
	if len(os.Args) > 1 && os.Args[1] == "panic" {
		panic("on purpose")
	}
	fmt.Println("SUCCESS")
}
