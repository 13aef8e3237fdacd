package main

import "time"

type apikeysCmd struct {
	Create apikeysCreateCmd `cmd:"" help:"Create an API key; prints the secret once."`
}

type apikeysCreateCmd struct {
	User      string        `required:"" help:"Owner's email."`
	Name      string        `required:"" help:"Key name."`
	Scope     []string      `help:"Scope (repeatable); without, the owner's rights."`
	ExpiresIn time.Duration `name:"expires-in" help:"Lifetime, e.g. 720h."`
}
