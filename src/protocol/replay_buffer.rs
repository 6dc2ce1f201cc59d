//! The last bytes a stream upload sent, kept to send again. A stream goes up as one request
//! and cannot be read twice; when the request fails, the session may hold less than was sent
//! (bytes in flight are lost), and the next try must start where the session stops. The
//! buffer keeps the newest `capacity` bytes at least (at most one piece more), so memory stays
//! bounded whatever the stream's length; a session that holds less than the buffer covers
//! cannot be resumed, which the caller reports. Generic over the piece type: JavaScript byte
//! arrays in the build, vectors in the tests.

use alloc::collections::VecDeque;

/// A run of bytes the buffer can keep and cut.
pub trait Piece: Clone {
    fn length(&self) -> u64;
    /// Bytes `start..end` of this piece.
    fn cut(&self, start: u64, end: u64) -> Self;
}

/// Why the buffer cannot give the bytes from an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// The offset is before the oldest byte kept (`kept_from`).
    Forgotten { kept_from: u64 },
    /// The offset is past the bytes read so far (`read_to`).
    NeverSent { read_to: u64 },
}

#[derive(Debug)]
pub struct ReplayBuffer<P> {
    pieces: VecDeque<P>,
    /// Offset of the first byte of the first piece kept.
    start: u64,
    /// Offset just past the last byte kept: everything read from the stream so far.
    end: u64,
    capacity: u64,
}

impl<P: Piece> ReplayBuffer<P> {
    pub fn new(capacity: u64) -> Self {
        ReplayBuffer { pieces: VecDeque::new(), start: 0, end: 0, capacity }
    }

    /// Every byte read from the stream so far.
    pub fn read_to(&self) -> u64 {
        self.end
    }

    /// Keeps a piece read from the stream (it follows the last one), then lets go of the
    /// oldest pieces the newest `capacity` bytes do not need.
    pub fn keep(&mut self, piece: P) {
        let length = piece.length();
        if length == 0 {
            return;
        }
        self.end += length;
        self.pieces.push_back(piece);
        while let Some(oldest) = self.pieces.front() {
            let oldest_length = oldest.length();
            if self.end - self.start - oldest_length < self.capacity {
                break;
            }
            self.start += oldest_length;
            self.pieces.pop_front();
        }
    }

    /// Lets go of the bytes before `offset` (the session holds them).
    pub fn confirm(&mut self, offset: u64) {
        while let Some(oldest) = self.pieces.front() {
            let oldest_length = oldest.length();
            if self.start + oldest_length > offset {
                break;
            }
            self.start += oldest_length;
            self.pieces.pop_front();
        }
    }

    /// The first piece of the bytes from `offset` (cut to start there), to send again;
    /// `None` when `offset` is the end of what was read.
    pub fn piece_at(&self, offset: u64) -> Result<Option<P>, Gap> {
        if offset > self.end {
            return Err(Gap::NeverSent { read_to: self.end });
        }
        if offset < self.start {
            return Err(Gap::Forgotten { kept_from: self.start });
        }
        // From the newest piece back: a try sending new bytes asks for the one just kept.
        let mut at = self.end;
        for piece in self.pieces.iter().rev() {
            if at == offset {
                break;
            }
            let length = piece.length();
            at -= length;
            if at <= offset {
                let skip = offset - at;
                return Ok(Some(if skip == 0 { piece.clone() } else { piece.cut(skip, length) }));
            }
        }
        Ok(None)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::prelude::*;
    use proptest::prelude::*;

    impl Piece for Vec<u8> {
        fn length(&self) -> u64 {
            self.len() as u64
        }
        fn cut(&self, start: u64, end: u64) -> Self {
            self[start as usize..end as usize].to_vec()
        }
    }

    /// The bytes from `offset` on, piece by piece, as a try sends them.
    fn from(buffer: &ReplayBuffer<Vec<u8>>, mut offset: u64) -> Result<Vec<Vec<u8>>, Gap> {
        let mut pieces = Vec::new();
        while let Some(piece) = buffer.piece_at(offset)? {
            offset += piece.length();
            pieces.push(piece);
        }
        Ok(pieces)
    }

    fn buffer_with(capacity: u64, pieces: &[&[u8]]) -> ReplayBuffer<Vec<u8>> {
        let mut buffer = ReplayBuffer::new(capacity);
        for piece in pieces {
            buffer.keep(piece.to_vec());
        }
        buffer
    }

    #[test]
    fn gives_the_bytes_from_any_offset_it_keeps() {
        let buffer = buffer_with(100, &[b"abc", b"defg", b"h"]);
        assert_eq!(from(&buffer, 0), Ok(vec![b"abc".to_vec(), b"defg".to_vec(), b"h".to_vec()]));
        assert_eq!(from(&buffer, 2), Ok(vec![b"c".to_vec(), b"defg".to_vec(), b"h".to_vec()]));
        assert_eq!(from(&buffer, 3), Ok(vec![b"defg".to_vec(), b"h".to_vec()]));
        assert_eq!(from(&buffer, 8), Ok(vec![]), "everything sent is held: nothing to send again");
        assert_eq!(from(&buffer, 9), Err(Gap::NeverSent { read_to: 8 }));
        assert_eq!(buffer.read_to(), 8);
    }

    #[test]
    fn keeps_the_newest_capacity_bytes_and_at_most_one_piece_more() {
        // Capacity 4: after "abc" "defg" "h", "abc" can go ("defg" "h" cover 5 >= 4), "defg" cannot.
        let buffer = buffer_with(4, &[b"abc", b"defg", b"h"]);
        assert_eq!(from(&buffer, 2), Err(Gap::Forgotten { kept_from: 3 }));
        assert_eq!(from(&buffer, 3), Ok(vec![b"defg".to_vec(), b"h".to_vec()]));
        // Exactly the capacity kept: the oldest piece stays while the rest covers less.
        let exact = buffer_with(4, &[b"ab", b"cd"]);
        assert_eq!(from(&exact, 0), Ok(vec![b"ab".to_vec(), b"cd".to_vec()]));
        let short = buffer_with(4, &[b"ab", b"cd", b"e"]);
        assert_eq!(from(&short, 0).map(|pieces| pieces.concat()), Ok(b"abcde".to_vec()), "without \"ab\": 3 < 4");
        let past = buffer_with(4, &[b"ab", b"cd", b"ef"]);
        assert_eq!(from(&past, 0), Err(Gap::Forgotten { kept_from: 2 }));
    }

    #[test]
    fn confirmed_bytes_are_let_go_whole_pieces_at_a_time() {
        let mut buffer = buffer_with(100, &[b"abc", b"defg"]);
        buffer.confirm(2);
        assert_eq!(from(&buffer, 2), Ok(vec![b"c".to_vec(), b"defg".to_vec()]), "a piece partly held stays");
        buffer.confirm(3);
        assert_eq!(from(&buffer, 2), Err(Gap::Forgotten { kept_from: 3 }));
        buffer.confirm(7);
        assert_eq!(from(&buffer, 7), Ok(vec![]));
        buffer.keep(Vec::new());
        assert_eq!(buffer.read_to(), 7, "an empty piece changes nothing");
    }

    proptest! {
        /// Whatever the pieces and the offsets asked for, the buffer gives exactly the stream's
        /// bytes from the offset, or says the offset is forgotten (only when it lies more than
        /// `capacity` bytes back) or never sent; and it never holds more than `capacity` bytes
        /// plus one piece.
        #[test]
        fn gives_the_stream_from_any_offset_within_capacity(
            lengths in proptest::collection::vec(0usize..50, 0..30),
            capacity in 1u64..200,
            backs in proptest::collection::vec(0u64..300, 1..10),
        ) {
            let mut buffer = ReplayBuffer::new(capacity);
            let mut stream: Vec<u8> = Vec::new();
            let mut largest = 0u64;
            for (index, length) in lengths.iter().enumerate() {
                let piece: Vec<u8> = (0..*length).map(|i| (stream.len() + i) as u8 ^ index as u8).collect();
                stream.extend_from_slice(&piece);
                largest = largest.max(*length as u64);
                buffer.keep(piece);
                let held: u64 = buffer.pieces.iter().map(|piece| piece.length()).sum();
                prop_assert!(held <= capacity + largest);
            }
            let read = stream.len() as u64;
            prop_assert_eq!(buffer.read_to(), read);
            for back in backs {
                let offset = read.saturating_sub(back);
                match from(&buffer, offset) {
                    Ok(pieces) => prop_assert_eq!(pieces.concat(), stream[offset as usize..].to_vec()),
                    Err(Gap::Forgotten { kept_from }) => {
                        prop_assert!(offset < kept_from);
                        prop_assert!(read - offset > capacity, "forgot bytes within capacity");
                    }
                    Err(Gap::NeverSent { .. }) => prop_assert!(false, "offsets asked are never past the stream"),
                }
            }
            prop_assert_eq!(from(&buffer, read + 1), Err(Gap::NeverSent { read_to: read }));
        }
    }
}
