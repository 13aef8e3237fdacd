package main

import (
	"fmt"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/migrations"
)

type migrateCmd struct {
	Up     migrateUpCmd     `cmd:"" help:"Apply pending migrations."`
	Status migrateStatusCmd `cmd:"" help:"Show each module's migration version."`
}

type migrateUpCmd struct{}

func (migrateUpCmd) Run(e *env) error {
	db, err := database.Open(e.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(e.ctx, db); err != nil {
		return err
	}
	return printStatus(e, db)
}

type migrateStatusCmd struct{}

func (migrateStatusCmd) Run(e *env) error {
	db, err := database.Open(e.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	return printStatus(e, db)
}

func printStatus(e *env, db database.DB) error {
	st, err := migrations.Status(e.ctx, db)
	if err != nil {
		return err
	}
	for _, s := range st {
		state := "up to date"
		if s.Pending() {
			state = fmt.Sprintf("%d pending", s.Latest-s.Current)
		}
		fmt.Fprintf(e.stdout, "%-10s version %d of %d (%s)\n", s.Module, s.Current, s.Latest, state)
	}
	return nil
}
