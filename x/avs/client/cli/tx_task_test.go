package cli

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/x/avs/types"
)

func TestTaskInput(t *testing.T) {
	testCases := []struct {
		name      string
		arg       []string
		inputFile []byte // written to a file passed with --input-file when set
		want      []byte
		errText   string
	}{
		{name: "neither", want: nil},
		{name: "argument", arg: []string{"4"}, want: []byte("4")},
		{name: "file", inputFile: []byte{0x00, 0xff}, want: []byte{0x00, 0xff}},
		{name: "both", arg: []string{"4"}, inputFile: []byte("5"), errText: "not both"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := CreateTaskCmd()
			if tc.inputFile != nil {
				require.NoError(t, cmd.Flags().Set(flagInputFile, writeFile(t, "input", tc.inputFile)))
			}
			got, err := taskInput(cmd, tc.arg)
			if tc.errText != "" {
				require.ErrorContains(t, err, tc.errText)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTaskInputs(t *testing.T) {
	testCases := []struct {
		name       string
		args       []string
		inputsFile []byte // written to a file passed with --inputs-file when set
		want       [][]byte
		errText    string
	}{
		{name: "neither", errText: "no inputs"},
		{name: "arguments", args: []string{"4", "5"}, want: [][]byte{[]byte("4"), []byte("5")}},
		{name: "file lines", inputsFile: []byte("4\r\n\n5\n"), want: [][]byte{[]byte("4"), []byte("5")}},
		{name: "empty file", inputsFile: []byte("\n\n"), errText: "no inputs"},
		{name: "both", args: []string{"4"}, inputsFile: []byte("5"), errText: "not both"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := CreateTasksCmd()
			if tc.inputsFile != nil {
				require.NoError(t, cmd.Flags().Set(flagInputsFile, writeFile(t, "inputs", tc.inputsFile)))
			}
			got, err := taskInputs(cmd, tc.args)
			if tc.errText != "" {
				require.ErrorContains(t, err, tc.errText)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestSubmitResultsMsg(t *testing.T) {
	const chainID, op = "avs-1", "avs1operator"
	salt := strings.Repeat("ab", 32)
	saltBytes, _ := hex.DecodeString(salt)

	msg, err := submitResultsMsg(chainID, op, []string{"3", "9"}, false, "")
	require.NoError(t, err)
	require.Equal(t, []types.TaskResult{{TaskId: 3, Result: []byte("9")}}, msg.Results, "a vote in the clear")

	msg, err = submitResultsMsg(chainID, op, []string{"3", "9", "4", "16"}, true, salt)
	require.NoError(t, err)
	require.Equal(t, []types.TaskResult{
		{TaskId: 3, Commitment: types.VoteCommitment(chainID, 3, op, []byte("9"), 0, saltBytes)},
		{TaskId: 4, Commitment: types.VoteCommitment(chainID, 4, op, []byte("16"), 0, saltBytes)},
	}, msg.Results, "commitments")

	msg, err = submitResultsMsg(chainID, op, []string{"3", "9"}, false, salt)
	require.NoError(t, err)
	require.Equal(t, []types.TaskResult{{TaskId: 3, Result: []byte("9"), Salt: saltBytes}}, msg.Results, "a reveal")

	for _, bad := range []string{"", "zz", "abcd", strings.Repeat("ab", 33)} {
		_, err = submitResultsMsg(chainID, op, []string{"3", "9"}, true, bad)
		require.ErrorContains(t, err, "--salt must be 32 bytes as hex", "%q", bad)
	}
	_, err = submitResultsMsg(chainID, op, []string{"x", "9"}, false, "")
	require.Error(t, err)
}
