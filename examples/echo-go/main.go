package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	var data interface{}
	if raw, ok := os.LookupEnv("IGNITE_INPUT"); ok {
		if err := json.Unmarshal([]byte(raw), &data); err != nil {
			fmt.Fprintln(os.Stderr, "bad input:", err)
			os.Exit(1)
		}
	}
	out, _ := json.Marshal(map[string]interface{}{"echo": data, "hello": "world"})
	fmt.Println(string(out))
}
