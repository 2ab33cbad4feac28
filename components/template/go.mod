module example.com/avs-component

go 1.25.0

require github.com/avschain/avschain v0.0.0

replace github.com/avschain/avschain => ../..
