"""The FaceEngine facade and the use cases front ends call: photos in, identities out."""
