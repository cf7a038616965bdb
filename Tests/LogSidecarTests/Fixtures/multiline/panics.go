// Logs a few lines with the log package, starts goroutines that block in several ways, and panics
// three calls deep: with GOTRACEBACK=all the runtime prints every goroutine's stack after the panic.
package main

import (
	"fmt"
	"log"
	"os"
	"sync"
	"time"
)

type config struct{ retries []int }

func worker(id int, jobs chan int, wg *sync.WaitGroup) {
	wg.Done()
	for job := range jobs {
		fmt.Fprintln(os.Stderr, id, job)
	}
}

func sleeper(wg *sync.WaitGroup) {
	wg.Done()
	time.Sleep(time.Hour)
}

func (c *config) retry(n int) int { return c.retries[n] }

func load(c *config, n int) int { return c.retry(n) * 2 }

func main() {
	log.SetOutput(os.Stderr)
	for i := 0; i < 5; i++ {
		log.Printf("request %d served", i)
	}
	var wg sync.WaitGroup
	jobs := make(chan int)
	for i := 0; i < 3; i++ {
		wg.Add(2)
		go worker(i, jobs, &wg)
		go sleeper(&wg)
	}
	wg.Wait()
	log.Printf("workers ready")
	c := &config{retries: []int{1, 2, 3}}
	fmt.Println(load(c, 7))
}
