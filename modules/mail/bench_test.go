package mail

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// BenchmarkEnqueueLatency measures what queuing a message adds to a
// request: "request" is a transaction with the one write a typical change
// makes (a row into a scratch table), "request+mail" the same transaction
// that also renders the reset template and inserts it into mail_outbox.
// The difference of the two is the added latency; nothing waits on SMTP.
func BenchmarkEnqueueLatency(b *testing.B) {
	testutil.ForEachDBBench(b, func(b *testing.B, db database.DB) {
		if err := db.Gorm.Exec(`CREATE TABLE bench_changes (id TEXT PRIMARY KEY, at TIMESTAMP NOT NULL)`).Error; err != nil {
			b.Fatal(err)
		}
		s, err := New(db, Options{Issuer: "http://localhost:8080"})
		if err != nil {
			b.Fatal(err)
		}
		vars := map[string]string{"link": "http://localhost:8080/password/reset?token=abc", "expires": "soon"}
		for _, withMail := range []bool{false, true} {
			name := "request"
			if withMail {
				name = "request+mail"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				i := 0
				start := time.Now()
				for b.Loop() {
					i++
					err := database.Transact(ctx, db.Gorm, func(ctx context.Context) error {
						if err := database.Conn(ctx, db.Gorm).Exec(`INSERT INTO bench_changes (id, at) VALUES (?, ?)`,
							uuid.NewString(), time.Now()).Error; err != nil {
							return err
						}
						if !withMail {
							return nil
						}
						return s.Notify(ctx, TemplateReset, "user"+strconv.Itoa(i)+"@example.test", vars)
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/op")
			})
		}
	})
}
