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
