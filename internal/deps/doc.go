// Package deps holds no code: its test keeps the layering honest by failing when a package that
// reads files (root capture, which every decoder imports, and a decoder) pulls in live capture.
package deps
