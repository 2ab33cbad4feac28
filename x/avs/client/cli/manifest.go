package cli

import "fmt"

// manifestFileError is a manifest file that does not decode: it names the
// file and where complete manifests are, and keeps the decoder's error for
// errors.Is. Its text is err.Error(), so no source position of an
// errorsmod error (printed by its %v) reaches the user.
type manifestFileError struct {
	path string
	err  error
}

func (e manifestFileError) Error() string {
	return fmt.Sprintf("decode manifest %s: %s (examples/manifests/ has a complete manifest of each kind, "+
		"examples/manifest.schema.json every field; `avsd tx avs create-service --help`)", e.path, e.err.Error())
}

func (e manifestFileError) Unwrap() error { return e.err }
