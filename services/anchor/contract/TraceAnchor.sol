// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title TraceAnchor: commits the trace log's checkpoints (tree size, Merkle root) to the chain.
/// @notice The interface of PROTOCOL.md §6 is anchor / rootAt / latest and the Anchored event;
/// the owner functions below only manage who may anchor.
contract TraceAnchor {
    event Anchored(uint64 indexed treeSize, bytes32 root, address indexed anchorer);
    event AnchorerSet(address indexed anchorer, bool allowed);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    address public owner;
    mapping(address => bool) public isAnchorer;

    uint64 private latestSize;
    mapping(uint64 => bytes32) private roots;

    constructor() {
        owner = msg.sender;
        isAnchorer[msg.sender] = true;
        emit OwnershipTransferred(address(0), msg.sender);
        emit AnchorerSet(msg.sender, true);
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "TraceAnchor: not owner");
        _;
    }

    /// Records `root` as the log's root at `treeSize`. Authorized anchorers only; `treeSize`
    /// must be larger than every earlier one and `root` non-zero.
    function anchor(uint64 treeSize, bytes32 root) external {
        require(isAnchorer[msg.sender], "TraceAnchor: not an anchorer");
        require(treeSize > latestSize, "TraceAnchor: treeSize must grow");
        require(root != bytes32(0), "TraceAnchor: zero root");
        latestSize = treeSize;
        roots[treeSize] = root;
        emit Anchored(treeSize, root, msg.sender);
    }

    /// The root anchored at exactly `treeSize`, or zero when none was.
    function rootAt(uint64 treeSize) external view returns (bytes32) {
        return roots[treeSize];
    }

    /// The newest anchored (treeSize, root); (0, 0) before the first anchor.
    function latest() external view returns (uint64 treeSize, bytes32 root) {
        return (latestSize, roots[latestSize]);
    }

    function setAnchorer(address anchorer, bool allowed) external onlyOwner {
        require(anchorer != address(0), "TraceAnchor: zero address");
        isAnchorer[anchorer] = allowed;
        emit AnchorerSet(anchorer, allowed);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "TraceAnchor: zero address");
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }
}
