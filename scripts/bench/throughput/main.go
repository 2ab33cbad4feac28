// Command throughput is the load generator and meter of
// scripts/bench/throughput.sh: against a running chain whose service already
// has its operators and sidecars, it creates tasks in bulk or at a rate,
// follows the blocks until every task has ended (or a count of blocks has
// passed), and prints tasks/s, completion blocks, votes per transaction, gas
// per task, and the CPU time and peak memory of the chain and sidecar
// processes.
//
// Transactions are signed before the clock starts (offline, with sequences
// counted here) and broadcast over the node's RPC, so the avsd CLI's own
// start-up does not load the machine during the measurement. Only the
// standard library is imported: `go build` of it takes a second.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/avschain/avschain/testutil/localnet"
)

const (
	actionCreateTasks   = "/avschain.avs.v1.MsgCreateTasks"
	actionSubmitResults = "/avschain.avs.v1.MsgSubmitResults"
	evTaskCreated       = "avschain.avs.v1.EventTaskCreated"
	evVoteAccepted      = "avschain.avs.v1.EventVoteAccepted"
	evVoteRejected      = "avschain.avs.v1.EventVoteRejected"
	evVoteCommitted     = "avschain.avs.v1.EventVoteCommitted"
	evTaskCompleted     = "avschain.avs.v1.EventTaskCompleted"
	evTaskFailed        = "avschain.avs.v1.EventTaskFailed"
	evTaskExpired       = "avschain.avs.v1.EventTaskExpired"
	// maxTasksPerMsg is x/avs's default max_tasks_per_msg.
	maxTasksPerMsg = 1000
	// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat
	// (100 on every Linux architecture Go supports).
	clockTicks = 100
)

type options struct {
	avsd, home, chainID, rpc, api, from, gasPrices, fee, workDir string
	service                                                      uint64
	bulk, rate, seconds, deadlineBlocks, tailBlocks              int
	gasPerMsg, maxTxGas                                          int64
	procs                                                        procList
}

// procList is the repeated -proc NAME=PID flag.
type procList []proc

type proc struct {
	name string
	pid  int
}

func (p *procList) String() string { return fmt.Sprint(*p) }

func (p *procList) Set(s string) error {
	name, pid, ok := strings.Cut(s, "=")
	n, err := strconv.Atoi(pid)
	if !ok || err != nil || name == "" {
		return fmt.Errorf("want NAME=PID, got %q", s)
	}
	*p = append(*p, proc{name, n})
	return nil
}

func main() {
	var o options
	flag.StringVar(&o.avsd, "avsd", "build/avsd", "avsd binary (for signing and encoding)")
	flag.StringVar(&o.home, "home", "", "node home with the test keyring")
	flag.StringVar(&o.chainID, "chain-id", "", "chain id")
	flag.StringVar(&o.rpc, "rpc", "http://127.0.0.1:26657", "CometBFT RPC")
	flag.StringVar(&o.api, "api", "http://127.0.0.1:1317", "REST API")
	flag.StringVar(&o.from, "from", "bob", "key that creates the tasks")
	flag.StringVar(&o.gasPrices, "gas-prices", "0.01uavs", "gas price the transactions pay")
	flag.StringVar(&o.fee, "fee", "300uavs", "fee of each task")
	flag.StringVar(&o.workDir, "dir", os.TempDir(), "directory for the signed transactions")
	flag.Uint64Var(&o.service, "service", 0, "service id")
	flag.IntVar(&o.bulk, "bulk", 0, "create this many tasks at once (as few transactions as the block gas allows)")
	flag.IntVar(&o.rate, "rate", 0, "create this many tasks per second ...")
	flag.IntVar(&o.seconds, "seconds", 30, "... for this many seconds")
	flag.IntVar(&o.deadlineBlocks, "deadline-blocks", 80, "give up this many blocks after the last task was created")
	flag.IntVar(&o.tailBlocks, "tail-blocks", 3, "blocks followed after the last task ended, to count late votes")
	flag.Int64Var(&o.gasPerMsg, "gas-per-task", 20_000, "gas limit per task of a MsgCreateTasks")
	flag.Int64Var(&o.maxTxGas, "max-tx-gas", 400_000_000, "gas limit of one transaction (under the block's max_gas)")
	flag.Var(&o.procs, "proc", "NAME=PID of a process to meter (repeated)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "throughput:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if (o.bulk > 0) == (o.rate > 0) {
		return errors.New("give either -bulk K or -rate R (with -seconds S)")
	}
	if o.rate > maxTasksPerMsg {
		return fmt.Errorf("-rate %d: one transaction a second carries at most %d tasks (max_tasks_per_msg)", o.rate, maxTasksPerMsg)
	}
	if o.service == 0 || o.home == "" || o.chainID == "" {
		return errors.New("-service, -home and -chain-id are required")
	}
	txs, total, err := prepare(o)
	if err != nil {
		return err
	}
	m := newMeter(o)
	start, err := m.height()
	if err != nil {
		return err
	}
	cpu0 := make([]procStat, len(o.procs))
	for i, p := range o.procs {
		cpu0[i] = readProc(p.pid)
	}
	t0 := time.Now()
	mode := fmt.Sprintf("bulk %d", o.bulk)
	if o.rate > 0 {
		mode = fmt.Sprintf("rate %d/s for %d s", o.rate, o.seconds)
	}
	fmt.Printf("throughput: %s: %d tasks in %d transaction(s), from height %d\n", mode, total, len(txs), start)

	// Broadcast: all at once in bulk, one transaction a second at a rate,
	// following the blocks meanwhile.
	sent := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i, tx := range txs {
			if o.rate > 0 && i > 0 {
				<-tick.C
			}
			if err := broadcast(o.rpc, tx); err != nil {
				sent <- fmt.Errorf("transaction %d of %d: %w", i+1, len(txs), err)
				return
			}
		}
		sent <- nil
	}()
	allSent := false
	lastCreated := int64(0)
	for next := start + 1; ; {
		if !allSent {
			select {
			case err := <-sent:
				if err != nil {
					return err
				}
				allSent = true
			default:
			}
		}
		h, err := m.height()
		if err != nil {
			return err
		}
		for ; next <= h; next++ {
			if err := m.blockRetried(next); err != nil {
				return err
			}
			if len(m.created) > 0 && lastCreated == 0 && len(m.created) >= total {
				lastCreated = next
			}
			if (next-start)%3 == 0 {
				m.progress(next, total)
			}
		}
		switch {
		case allSent && len(m.created) >= total && len(m.ended) >= total:
			if m.doneAt == 0 {
				m.doneAt = next - 1
				m.wall = time.Since(t0)
				m.cpu = make([]procStat, len(o.procs))
				for i, p := range o.procs {
					m.cpu[i] = readProc(p.pid).minus(cpu0[i])
				}
				m.progress(next-1, total)
				fmt.Printf("throughput: every task ended at height %d; following %d more blocks for late votes\n", m.doneAt, o.tailBlocks)
			}
			if next-1 >= m.doneAt+int64(o.tailBlocks) {
				return m.report(o, total)
			}
		case lastCreated > 0 && next-1 > lastCreated+int64(o.deadlineBlocks):
			m.progress(next-1, total)
			return fmt.Errorf("gave up %d blocks after the last creation: %d of %d tasks ended", o.deadlineBlocks, len(m.ended), total)
		case !allSent && len(m.created) == 0 && next-1 > start+int64(o.deadlineBlocks):
			return fmt.Errorf("no task created in %d blocks", o.deadlineBlocks)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// prepare signs every transaction (sequences counted from the account's
// current one) and returns their encoded bytes and the number of tasks.
func prepare(o options) ([][]byte, int, error) {
	dir, err := os.MkdirTemp(o.workDir, "throughput-txs-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(dir)
	out, err := cli(o, "keys", "show", o.from, "-a", "--home", o.home, "--keyring-backend", "test")
	if err != nil {
		return nil, 0, err
	}
	addr := strings.TrimSpace(string(out))
	var acct struct {
		Info struct {
			AccountNumber string `json:"account_number"`
			Sequence      string `json:"sequence"`
		} `json:"info"`
	}
	if err := getJSON(o.api+"/cosmos/auth/v1beta1/account_info/"+addr, &acct); err != nil {
		return nil, 0, err
	}
	seq, err := strconv.ParseUint(acct.Info.Sequence, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("sequence of %s: %w", addr, err)
	}

	// One MsgCreateTasks per transaction as the CLI builds it, with the
	// transaction's inputs.
	out, err = cli(o, "tx", "avs", "create-tasks", strconv.FormatUint(o.service, 10), "0", "--fee", o.fee,
		"--from", o.from, "--home", o.home, "--keyring-backend", "test", "--chain-id", o.chainID,
		"--generate-only", "-o", "json")
	if err != nil {
		return nil, 0, err
	}
	var gen struct {
		Body struct {
			Messages []map[string]any `json:"messages"`
		} `json:"body"`
	}
	if err := json.Unmarshal(lastJSONLine(out), &gen); err != nil || len(gen.Body.Messages) != 1 {
		return nil, 0, fmt.Errorf("generated create-tasks: %v: %s", err, out)
	}
	template := gen.Body.Messages[0]

	var batches []int // tasks per transaction
	perTx := min(int((o.maxTxGas-200_000)/o.gasPerMsg), maxTasksPerMsg)
	if o.bulk > 0 {
		for left := o.bulk; left > 0; left -= perTx {
			batches = append(batches, min(left, perTx))
		}
	} else {
		for range o.seconds {
			batches = append(batches, o.rate)
		}
	}
	price, denom, err := splitCoin(o.gasPrices)
	if err != nil {
		return nil, 0, err
	}
	fmt.Printf("throughput: signing %d transaction(s) ", len(batches))
	var txs [][]byte
	input := 0
	for i, n := range batches {
		m := make(map[string]any, len(template))
		for k, v := range template {
			m[k] = v
		}
		inputs := make([]string, n)
		for j := range inputs {
			input++
			inputs[j] = base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(input)))
		}
		m["inputs"] = inputs
		msgs := []map[string]any{m}
		gas := 200_000 + int64(n)*o.gasPerMsg
		tx := map[string]any{
			"body": map[string]any{"messages": msgs, "memo": "", "timeout_height": "0",
				"extension_options": []any{}, "non_critical_extension_options": []any{}},
			"auth_info": map[string]any{"signer_infos": []any{}, "fee": map[string]any{
				"amount":    []map[string]string{{"denom": denom, "amount": strconv.FormatInt(int64(math.Ceil(price*float64(gas))), 10)}},
				"gas_limit": strconv.FormatInt(gas, 10), "payer": "", "granter": "",
			}},
			"signatures": []any{},
		}
		bz, err := json.Marshal(tx)
		if err != nil {
			return nil, 0, err
		}
		unsigned := filepath.Join(dir, fmt.Sprintf("unsigned-%d.json", i))
		signed := filepath.Join(dir, fmt.Sprintf("signed-%d.json", i))
		if err := os.WriteFile(unsigned, bz, 0o600); err != nil {
			return nil, 0, err
		}
		out, err := cli(o, "tx", "sign", unsigned, "--from", o.from, "--home", o.home, "--keyring-backend", "test",
			"--chain-id", o.chainID, "--offline", "--account-number", acct.Info.AccountNumber,
			"--sequence", strconv.FormatUint(seq+uint64(i), 10), "-o", "json")
		if err != nil {
			return nil, 0, err
		}
		if err := os.WriteFile(signed, lastJSONLine(out), 0o600); err != nil {
			return nil, 0, err
		}
		out, err = cli(o, "tx", "encode", signed)
		if err != nil {
			return nil, 0, err
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(out)))
		if err != nil {
			return nil, 0, fmt.Errorf("encoded tx: %w", err)
		}
		txs = append(txs, raw)
		fmt.Print(".")
	}
	fmt.Println()
	return txs, input, nil
}

// cli runs the avsd CLI and returns its standard output.
func cli(o options, args ...string) ([]byte, error) {
	cmd := exec.Command(o.avsd, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("avsd %s: %w: %s", strings.Join(args[:min(3, len(args))], " "), err, stderr.Bytes())
	}
	return out, nil
}

// broadcast sends a transaction with broadcast_tx_sync and fails unless
// CheckTx accepted it.
func broadcast(rpc string, tx []byte) error {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_sync",
		"params": map[string]string{"tx": base64.StdEncoding.EncodeToString(tx)}})
	if err != nil {
		return err
	}
	resp, err := http.Post(rpc, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Result struct {
			Code uint32 `json:"code"`
			Log  string `json:"log"`
		} `json:"result"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if len(out.Error) > 0 && string(out.Error) != "null" {
		return fmt.Errorf("broadcast: %s", out.Error)
	}
	if out.Result.Code != 0 {
		return fmt.Errorf("refused by CheckTx (code %d): %s", out.Result.Code, out.Result.Log)
	}
	return nil
}

// meter follows the blocks' results.
type meter struct {
	o       options
	created map[uint64]int64 // task → height of its creation
	ended   map[uint64]int64 // task → height of its end
	expired int
	failed  int
	times   map[int64]time.Time

	createTxs, voteTxs, voteTxsFailed int
	createGas, voteGas                int64
	votes, lateVotes, rejected        int
	commits                           int            // commitments on a COMMIT_REVEAL service
	rejectedBy                        map[string]int // refused entries by "codespace/code"
	votesPerTx                        []int

	doneAt int64
	wall   time.Duration
	cpu    []procStat
}

func newMeter(o options) *meter {
	return &meter{o: o, created: map[uint64]int64{}, ended: map[uint64]int64{}, times: map[int64]time.Time{}}
}

func (m *meter) height() (int64, error) {
	var st struct {
		Result struct {
			SyncInfo struct {
				Height string `json:"latest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := getJSON(m.o.rpc+"/status", &st); err != nil {
		return 0, err
	}
	return strconv.ParseInt(st.Result.SyncInfo.Height, 10, 64)
}

type event struct {
	Type       string `json:"type"`
	Attributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

// attr returns an attribute's value, a JSON string unquoted.
func (e event) attr(key string) string {
	for _, a := range e.Attributes {
		if a.Key == key {
			return localnet.AttrValue(a.Value)
		}
	}
	return ""
}

func (e event) taskID() uint64 {
	id, _ := strconv.ParseUint(e.attr("task_id"), 10, 64)
	return id
}

func (e event) ours(service uint64) bool {
	return e.attr("service_id") == strconv.FormatUint(service, 10)
}

// blockRetried is block, tried again for a few seconds: the node may report
// a height in /status a moment before its results can be read.
func (m *meter) blockRetried(h int64) error {
	var err error
	for range 30 {
		if err = m.block(h); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// block reads one block's results and header time.
func (m *meter) block(h int64) error {
	var res struct {
		Result struct {
			TxsResults []struct {
				Code    uint32  `json:"code"`
				GasUsed string  `json:"gas_used"`
				Events  []event `json:"events"`
			} `json:"txs_results"`
			FinalizeBlockEvents []event `json:"finalize_block_events"`
		} `json:"result"`
	}
	if err := getJSON(fmt.Sprintf("%s/block_results?height=%d", m.o.rpc, h), &res); err != nil {
		return err
	}
	var hdr struct {
		Result struct {
			Header struct {
				Time time.Time `json:"time"`
			} `json:"header"`
		} `json:"result"`
	}
	if err := getJSON(fmt.Sprintf("%s/header?height=%d", m.o.rpc, h), &hdr); err != nil {
		return err
	}
	m.times[h] = hdr.Result.Header.Time
	for _, tx := range res.Result.TxsResults {
		gas, _ := strconv.ParseInt(tx.GasUsed, 10, 64)
		action := ""
		for _, e := range tx.Events {
			if e.Type == "message" && action == "" {
				action = e.attr("action")
			}
		}
		switch action {
		case actionCreateTasks:
			m.createTxs++
			m.createGas += gas
		case actionSubmitResults:
			m.voteTxs++
			m.voteGas += gas
			if tx.Code != 0 {
				m.voteTxsFailed++
			}
			n := 0
			for _, e := range tx.Events {
				switch e.Type {
				case evVoteAccepted:
					n++
					if e.attr("late") == "true" {
						m.lateVotes++
					}
				case evVoteRejected:
					m.rejected++
					if m.rejectedBy == nil {
						m.rejectedBy = map[string]int{}
					}
					m.rejectedBy[e.attr("codespace")+"/"+e.attr("code")]++
				case evVoteCommitted:
					m.commits++
				}
			}
			m.votes += n
			m.votesPerTx = append(m.votesPerTx, n)
		}
		m.settle(h, tx.Events)
	}
	m.settle(h, res.Result.FinalizeBlockEvents)
	return nil
}

// settle records the creations and ends among events of height h.
func (m *meter) settle(h int64, events []event) {
	for _, e := range events {
		if !e.ours(m.o.service) {
			continue
		}
		switch e.Type {
		case evTaskCreated:
			m.created[e.taskID()] = h
		case evTaskCompleted, evTaskFailed, evTaskExpired:
			id := e.taskID()
			if _, ok := m.ended[id]; ok {
				continue
			}
			m.ended[id] = h
			switch e.Type {
			case evTaskExpired:
				m.expired++
			case evTaskFailed:
				m.failed++
			}
		}
	}
}

func (m *meter) progress(h int64, total int) {
	fmt.Printf("  height %d: created %d/%d, ended %d (expired %d), votes %d in %d txs\n",
		h, len(m.created), total, len(m.ended), m.expired, m.votes, m.voteTxs)
}

// task is a task as the REST API lists it.
type task struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	CreatedHeight string `json:"created_height"`
	EndedHeight   string `json:"ended_height"`
}

// tasks lists every task of the service over the REST API.
func (m *meter) tasks() ([]task, error) {
	var all []task
	key := ""
	for {
		var page struct {
			Tasks      []task `json:"tasks"`
			Pagination struct {
				NextKey string `json:"next_key"`
			} `json:"pagination"`
		}
		url := fmt.Sprintf("%s/avschain/avs/v1/services/%d/tasks?pagination.limit=1000", m.o.api, m.o.service)
		if key != "" {
			url += "&pagination.key=" + strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(key)
		}
		if err := getJSON(url, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Tasks...)
		if page.Pagination.NextKey == "" {
			return all, nil
		}
		key = page.Pagination.NextKey
	}
}

func (m *meter) report(o options, total int) error {
	list, err := m.tasks()
	if err != nil {
		return err
	}
	var blocks []int
	statuses := map[string]int{}
	firstCreated, lastCreated, lastEnded := int64(math.MaxInt64), int64(0), int64(0)
	for _, t := range list {
		id, _ := strconv.ParseUint(t.ID, 10, 64)
		if _, ok := m.created[id]; !ok {
			continue // a task of an earlier run on this service
		}
		c, _ := strconv.ParseInt(t.CreatedHeight, 10, 64)
		e, _ := strconv.ParseInt(t.EndedHeight, 10, 64)
		statuses[t.Status]++
		blocks = append(blocks, int(e-c))
		firstCreated, lastCreated, lastEnded = min(firstCreated, c), max(lastCreated, c), max(lastEnded, e)
	}
	if len(blocks) != total {
		return fmt.Errorf("the REST API lists %d of the %d tasks", len(blocks), total)
	}
	sort.Ints(blocks)
	secs := m.times[lastEnded].Sub(m.times[firstCreated]).Seconds()
	sort.Ints(m.votesPerTx)
	meanVotes := 0.0
	if m.voteTxs > 0 {
		meanVotes = float64(m.votes) / float64(m.voteTxs)
	}
	fmt.Println()
	fmt.Printf("tasks:              %d (%s)\n", total, statusLine(statuses))
	fmt.Printf("blocks:             created at %d to %d, last ended at %d (%d blocks, %.1f s of block time; %.1f s wall clock from the first broadcast)\n",
		firstCreated, lastCreated, lastEnded, lastEnded-firstCreated, secs, m.wall.Seconds())
	fmt.Printf("tasks/s:            %.1f (tasks / block time from the first creation to the last end)\n", float64(total)/secs)
	fmt.Printf("completion blocks:  p50 %d, p99 %d, max %d (ended_height - created_height)\n",
		pct(blocks, 50), pct(blocks, 99), blocks[len(blocks)-1])
	fmt.Printf("  histogram:        %s\n", histogram(blocks))
	fmt.Printf("expired:            %d\n", m.expired)
	fmt.Printf("create txs:         %d, %d gas (%.0f per task)\n", m.createTxs, m.createGas, float64(m.createGas)/float64(total))
	fmt.Printf("vote txs:           %d (%d failed), %d votes accepted (%d late), %d rejected\n",
		m.voteTxs, m.voteTxsFailed, m.votes, m.lateVotes, m.rejected)
	if len(m.rejectedBy) > 0 {
		codes := make([]string, 0, len(m.rejectedBy))
		for c, n := range m.rejectedBy {
			codes = append(codes, fmt.Sprintf("%s: %d", c, n))
		}
		sort.Strings(codes)
		fmt.Printf("rejected by code:   %s (x/avs/README.md, Errors)\n", strings.Join(codes, ", "))
	}
	if m.commits > 0 {
		fmt.Printf("commitments:        %d, in the vote txs above (commit-reveal: a vote is its reveal)\n", m.commits)
	}
	if m.voteTxs > 0 {
		fmt.Printf("votes per tx:       mean %.1f, p50 %d, max %d; %d gas (%.0f per vote)\n",
			meanVotes, pct(m.votesPerTx, 50), m.votesPerTx[len(m.votesPerTx)-1], m.voteGas, float64(m.voteGas)/float64(max(m.votes, 1)))
	}
	gasPerTask := float64(m.createGas+m.voteGas) / float64(total)
	fmt.Printf("gas per task:       %.0f (create + every vote tx, late ones included, / tasks)\n", gasPerTask)
	fmt.Printf("CPU and memory (CPU seconds from the first broadcast to the last end; peak RSS of the process's life):\n")
	var avsdCPU, sideCPU float64
	var avsdRSS, sideRSS int64
	for i, p := range o.procs {
		c := m.cpu[i]
		fmt.Printf("  %-12s pid %-7d CPU %6.2f s  peak RSS %5d MiB\n", p.name, p.pid, c.cpu, c.hwmKiB/1024)
		if p.name == "avsd" {
			avsdCPU, avsdRSS = c.cpu, c.hwmKiB/1024
		} else {
			sideCPU += c.cpu
			sideRSS = max(sideRSS, c.hwmKiB/1024)
		}
	}
	mode := fmt.Sprintf("bulk %d", o.bulk)
	if o.rate > 0 {
		mode = fmt.Sprintf("%d/s × %d s", o.rate, o.seconds)
	}
	fmt.Println()
	fmt.Println("| load | tasks | tasks/s | completion blocks p50 / p99 / max | expired | votes/tx | gas/task | CPU s avsd / sidecars (sum) | peak RSS avsd / sidecar (max) |")
	fmt.Printf("| %s | %d | %.1f | %d / %d / %d | %d | %.1f | %.0f | %.1f / %.1f | %d / %d MiB |\n",
		mode, total, float64(total)/secs, pct(blocks, 50), pct(blocks, 99), blocks[len(blocks)-1], m.expired,
		meanVotes, gasPerTask, avsdCPU, sideCPU, avsdRSS, sideRSS)
	return nil
}

func statusLine(s map[string]int) string {
	var parts []string
	for k, v := range s {
		parts = append(parts, fmt.Sprintf("%s %d", strings.TrimPrefix(k, "TASK_STATUS_"), v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// pct is the nearest-rank percentile of sorted values.
func pct(sorted []int, p int) int {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)]
}

func histogram(sorted []int) string {
	var b strings.Builder
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		fmt.Fprintf(&b, "%d:%d ", sorted[i], j-i)
		i = j
	}
	return strings.TrimSpace(b.String()) + " (blocks:tasks)"
}

// procStat is a process's CPU time and peak resident memory.
type procStat struct {
	cpu    float64 // user + system seconds
	hwmKiB int64
}

func (p procStat) minus(q procStat) procStat { return procStat{p.cpu - q.cpu, p.hwmKiB} }

// readProc reads utime+stime from /proc/PID/stat and VmHWM from
// /proc/PID/status; zero for a process that is gone.
func readProc(pid int) procStat {
	var st procStat
	if bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// fields after the command name, which may hold spaces: state is field 3
		if i := bytes.LastIndexByte(bz, ')'); i > 0 {
			f := strings.Fields(string(bz[i+1:]))
			if len(f) > 12 {
				ut, _ := strconv.ParseFloat(f[11], 64)
				stime, _ := strconv.ParseFloat(f[12], 64)
				st.cpu = (ut + stime) / clockTicks
			}
		}
	}
	if bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(bz), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				st.hwmKiB, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			}
		}
	}
	return st
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	bz, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.300s", url, resp.Status, bz)
	}
	if err := json.Unmarshal(bz, v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// lastJSONLine skips anything printed before the JSON.
func lastJSONLine(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if bytes.HasPrefix(bytes.TrimSpace(lines[i]), []byte("{")) {
			return lines[i]
		}
	}
	return out
}

// splitCoin splits a gas price such as "0.01uavs".
func splitCoin(price string) (float64, string, error) {
	i := strings.IndexFunc(price, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, "", fmt.Errorf("gas price %q", price)
	}
	v, err := strconv.ParseFloat(price[:i], 64)
	return v, price[i:], err
}
