// Drives the emulator with gosnowflake through database/sql, as a user's code would, and prints one
// JSON object of what each check saw; emulator/test/gosnowflake.test.ts asserts on it.
//
//	emulator-client-go <emulator url> <user> <password> <database to create>
package main

import (
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	sf "github.com/snowflakedb/gosnowflake"
)

var (
	db    *sql.DB
	getDB *sql.DB
	dbn   string
	out   = map[string]any{"version": sf.SnowflakeGoDriverVersion}
)

func main() {
	u, err := url.Parse(os.Args[1])
	if err != nil {
		panic(err)
	}
	port, _ := strconv.Atoi(u.Port())
	dbn = os.Args[4]
	// Results as JSON: the emulator has no Arrow encoder, and says so in GO_QUERY_RESULT_FORMAT at login;
	// the session parameter is set here as well, as a user of the emulator would.
	jsonFormat := "json"
	cfg := &sf.Config{
		Account:          "floe",
		User:             os.Args[2],
		Password:         os.Args[3],
		Host:             u.Hostname(),
		Port:             port,
		Protocol:         "http",
		LoginTimeout:     30 * time.Second,
		DisableTelemetry: true,
		Params:           map[string]*string{"GO_QUERY_RESULT_FORMAT": &jsonFormat},
	}
	// Every check but GET (PUT and COPY included) runs with gosnowflake's stock transport, as a user's program would.
	db = sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	defer db.Close()
	// GET alone runs on a second connection with a Config.Transporter: the emulator hands gosnowflake an S3 stage
	// for GET, whose endPoint the driver reaches as https://<endPoint>, and the emulator's S3-compatible endpoint is
	// its own plain-HTTP address, so requests to that address go out over http. Keeping the hook off db means a PUT
	// that needed it would fail put_copy.
	getCfg := *cfg
	getCfg.Transporter = plainHTTPTo{host: u.Host, next: http.DefaultTransport}
	getDB = sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, getCfg))
	defer getDB.Close()
	must(db.Exec("create database " + dbn))
	must(db.Exec("create or replace table " + dbn + ".public.t" +
		" (i int, f float, n number(10,2), s varchar(20), d date, ts timestamp_ntz, b binary)"))

	check("round_trip", roundTrip)
	check("binds", func() (any, error) {
		var a int64
		var b string
		err := db.QueryRow("select ? as a, ? as b", 1, "two").Scan(&a, &b)
		return []any{a, b}, err
	})
	check("text_into_number", textIntoNumber)
	check("batch_insert", batchInsert)
	check("multi_chunk", multiChunk)
	check("transaction", transaction)
	check("missing_object", func() (any, error) { return failure("select * from " + dbn + ".public.nothing") })
	check("division_by_zero", func() (any, error) { return failure("select 1/0") })
	check("multi_statement", multiStatement)
	check("result_scan", resultScan)
	check("put_copy", putCopy)
	check("get", get)
	text, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(text))
}

func must(_ sql.Result, err error) {
	if err != nil {
		panic(err)
	}
}

// check records what fn saw, or its error, so that one failing check does not hide the others.
func check(name string, fn func() (any, error)) {
	v, err := fn()
	if err != nil {
		report := map[string]any{"error": err.Error()}
		var se *sf.SnowflakeError
		if errors.As(err, &se) {
			report["number"] = se.Number
			report["sqlState"] = se.SQLState
		}
		out[name] = report
		return
	}
	out[name] = v
}

// roundTrip inserts one row of every common type with server-side binds and reads it back.
func roundTrip() (any, error) {
	d := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	ts := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	// gosnowflake's type markers (DataTypeDate, ...) set how the arguments after them are bound.
	_, err := db.Exec("insert into "+dbn+".public.t values (?, ?, ?, ?, ?, ?, ?)", int64(7), 1.5, "12.34", "héllo",
		sf.DataTypeDate, d, sf.DataTypeTimestampNtz, ts, sf.DataTypeBinary, []byte{0xca, 0xfe})
	if err != nil {
		return nil, err
	}
	var (
		i       int64
		f       float64
		n, s    string
		gd, gts time.Time
		b       []byte
	)
	err = db.QueryRow("select i, f, n, s, d, ts, b from "+dbn+".public.t").Scan(&i, &f, &n, &s, &gd, &gts, &b)
	return map[string]any{
		"i": i, "f": f, "n": n, "s": s,
		"d": gd.Format("2006-01-02"), "ts": gts.Format("2006-01-02 15:04:05.000000"), "b": fmt.Sprintf("%x", b),
	}, err
}

// textIntoNumber binds text into a NUMBER column and adds text to a number, as Snowflake converts both.
func textIntoNumber() (any, error) {
	if _, err := db.Exec("create or replace table " + dbn + ".public.num (a number(10,0))"); err != nil {
		return nil, err
	}
	if _, err := db.Exec("insert into "+dbn+".public.num values (?)", "41"); err != nil {
		return nil, err
	}
	var sum int64
	err := db.QueryRow("select a + '1' from " + dbn + ".public.num").Scan(&sum)
	return sum, err
}

// batchInsert sends 50 rows as one array bind.
func batchInsert() (any, error) {
	if _, err := db.Exec("create or replace table " + dbn + ".public.m (a int, b varchar)"); err != nil {
		return nil, err
	}
	as := make([]int, 50)
	bs := make([]string, 50)
	for k := range as {
		as[k], bs[k] = k, fmt.Sprintf("r%d", k)
	}
	res, err := db.Exec("insert into "+dbn+".public.m values (?, ?)", sf.Array(&as), sf.Array(&bs))
	if err != nil {
		return nil, err
	}
	affected, _ := res.RowsAffected()
	var count, sum int64
	err = db.QueryRow("select count(*), sum(a) from "+dbn+".public.m").Scan(&count, &sum)
	return []int64{affected, count, sum}, err
}

// multiChunk reads 70,000 rows (several chunks the driver downloads in parallel) and checks their order.
func multiChunk() (any, error) {
	rows, err := db.Query("select seq4() as n from table(generator(rowcount => 70000)) order by n")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	count, inOrder := int64(0), true
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		inOrder = inOrder && n == count
		count++
	}
	return map[string]any{"count": count, "inOrder": inOrder}, rows.Err()
}

// transaction: an uncommitted insert is invisible to another session and undone by rollback; a commit keeps it.
func transaction() (any, error) {
	ctx := context.Background()
	if _, err := db.Exec("create or replace table " + dbn + ".public.tx (a int)"); err != nil {
		return nil, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec("insert into " + dbn + ".public.tx values (1)"); err != nil {
		return nil, err
	}
	var seen int64
	if err := db.QueryRow("select count(*) from " + dbn + ".public.tx").Scan(&seen); err != nil {
		return nil, err
	}
	if err := tx.Rollback(); err != nil {
		return nil, err
	}
	if tx, err = db.BeginTx(ctx, nil); err != nil {
		return nil, err
	}
	if _, err := tx.Exec("insert into " + dbn + ".public.tx values (2)"); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	var after int64
	err = db.QueryRow("select sum(a) from " + dbn + ".public.tx").Scan(&after)
	return map[string]any{"uncommittedSeen": seen, "after": after}, err
}

// failure runs a statement that must fail and returns Snowflake's error number and SQLSTATE.
func failure(query string) (any, error) {
	_, err := db.Exec(query)
	var se *sf.SnowflakeError
	if errors.As(err, &se) {
		return map[string]any{"number": se.Number, "sqlState": se.SQLState}, nil
	}
	return nil, fmt.Errorf("expected a Snowflake error, got %v", err)
}

// multiStatement runs two statements in one request and reads both result sets.
func multiStatement() (any, error) {
	ctx, err := sf.WithMultiStatement(context.Background(), 2)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "select 1 as a; select 'x' as b")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var got []string
	for {
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			got = append(got, v)
		}
		if !rows.NextResultSet() {
			break
		}
	}
	return got, rows.Err()
}

// resultScan reads the previous statement's result again on the same connection.
func resultScan() (any, error) {
	conn, err := db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "select 42 as x union all select 43"); err != nil {
		return nil, err
	}
	var sum int64
	err = conn.QueryRowContext(ctx, "select sum(x) from table(result_scan(last_query_id()))").Scan(&sum)
	return sum, err
}

// putCopy uploads a file to a table stage and loads it.
func putCopy() (any, error) {
	tmp, err := os.MkdirTemp("", "floe-go-client-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "rows.csv")
	if err := os.WriteFile(src, []byte("1,one\n2,two\n"), 0o600); err != nil {
		return nil, err
	}
	if _, err := db.Exec("create or replace table " + dbn + ".public.st (a int, b varchar)"); err != nil {
		return nil, err
	}
	if _, err := db.Exec("put file://" + src + " @" + dbn + ".public.%st"); err != nil {
		return nil, err
	}
	if _, err := db.Exec("copy into " + dbn + ".public.st from @" + dbn + ".public.%st file_format = (type = csv)"); err != nil {
		return nil, err
	}
	var loaded int64
	if err := db.QueryRow("select count(*) from " + dbn + ".public.st").Scan(&loaded); err != nil {
		return nil, err
	}
	return loaded, nil
}

// get downloads the table stage's files (uploaded by putCopy, gzipped by PUT) on getDB and reads each back.
func get() (any, error) {
	outDir, err := os.MkdirTemp("", "floe-go-client-get-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(outDir)
	if _, err := getDB.Exec("get @" + dbn + ".public.%st file://" + outDir); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, e := range entries {
		text, err := gunzipFile(filepath.Join(outDir, e.Name()))
		if err != nil {
			return nil, err
		}
		got[e.Name()] = text
	}
	return got, nil
}

// gunzipFile reads a gzip file's content.
func gunzipFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return "", err
	}
	text, err := io.ReadAll(z)
	return string(text), err
}

// plainHTTPTo sends requests for host over http whatever their scheme, everything else through next.
type plainHTTPTo struct {
	host string
	next http.RoundTripper
}

func (p plainHTTPTo) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == p.host && req.URL.Scheme == "https" {
		req = req.Clone(req.Context())
		req.URL.Scheme = "http"
	}
	return p.next.RoundTrip(req)
}
