package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
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
