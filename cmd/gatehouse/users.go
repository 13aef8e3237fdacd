package main

type usersCmd struct {
	Create usersCreateCmd `cmd:"" help:"Create a user; reads the password from stdin."`
}

type usersCreateCmd struct {
	Email         string   `required:"" help:"Email address."`
	Name          string   `help:"Display name."`
	Role          []string `help:"Role to assign (repeatable)."`
	PasswordStdin bool     `name:"password-stdin" help:"Read the password as one line from stdin."`
}
