// Package avs is the x/avs module: the task queue, operator set, quorum
// tallies and commitments of avschain. See README.md beside this file.
package avs
